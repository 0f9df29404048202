"""MkDocs hooks: generated reference pages and the paper's figures (see tools/docsgen.py)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

sys.path.insert(0, str(Path(__file__).resolve().parent))
import docsgen

log = logging.getLogger("mkdocs.plugins.splitopt")


def on_files(files, config):  # type: ignore[no-untyped-def]
    """Serve the paper's generated figures as ``generated/NAME.png``."""
    for png in sorted((docsgen.ROOT / "paper" / "generated").glob("*.png")):
        files.append(File.generated(config, f"generated/{png.name}", abs_src_path=str(png)))
    return files


def on_config(config):  # type: ignore[no-untyped-def]
    """This checkout's splitopt (not another installed copy) for the generated pages;
    mkdocs restores sys.path after loading the hooks, so it is set here."""
    root = str(docsgen.ROOT)
    if sys.path[:1] != [root]:
        sys.path.insert(0, root)
    loaded = sys.modules.get("splitopt")
    if loaded is not None and not str(getattr(loaded, "__file__", "")).startswith(root):
        raise PluginError(f"splitopt is already imported from {loaded.__file__}, not {root}")
    return config


def on_page_markdown(markdown, page, config, files):  # type: ignore[no-untyped-def]
    try:
        return docsgen.render(markdown, page.file.src_uri)
    except docsgen.DocsError as exc:
        raise PluginError(str(exc)) from exc


def on_post_build(config):  # type: ignore[no-untyped-def]
    missing = docsgen.missing_descriptions()
    total = sum(len(v) for v in missing.values())
    if total:
        # info, not a warning: --strict would fail on it before every schema has
        # descriptions; tests/test_docs.py reports the count.
        log.info(
            "file-format reference: %d schema fields without a description (%s)",
            total,
            ", ".join(f"{k}: {len(v)}" for k, v in missing.items() if v),
        )
