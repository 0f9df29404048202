"""``splitopt profile``: measure a splitopt-profile with PyTorch."""

from __future__ import annotations

import argparse

from splitopt.cli.common import EXIT_OK


def cmd_profile(args: argparse.Namespace) -> int:
    from splitopt.experiments.profiling import measure
    from splitopt.formats.profile_file import write_profile

    prof, names = measure(
        args.model,
        dtype=args.dtype,
        device=args.device,
        prompt_tokens=args.prompt_tokens,
        contexts=args.contexts,
        repeats=args.repeats,
    )
    write_profile(prof, args.output, names)
    print(f"profile of {prof.num_layers} layers written to {args.output}")
    return EXIT_OK
