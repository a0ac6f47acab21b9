"""GX's Data Docs without the internet: local assets, no inline script, nothing copied per run.

GX 1.24 writes every page with stylesheets and scripts from CDNs (Bootstrap 4, jQuery, Font
Awesome, bootstrap-table, vega, ...), the GX logo from S3, inline ``<script>`` blocks and
``onclick`` handlers, and copies its own ``static/`` folder (~4 MB: fonts, GIFs) into every site.
Inside Airflow, offline and under the plugin's Content-Security-Policy that renders a blank page.
:func:`make_offline` rewrites a built site so that it needs only files of this installation:

- CDN assets that a pinned package ships are referenced at ``<site>/static/vendor/...``: Bootstrap
  4.5 (XStatic-Bootstrap; the bundle includes Popper), jQuery 3.7.1 (XStatic-jQuery), Font Awesome 6
  (XStatic-Font-Awesome); bootstrap-table, which no package ships, is replaced by a minimal local
  renderer (``static/ccms/bootstrap-table-lite.js``); what the pages do not need offline (vega
  charts, date pickers, filter controls, a dark theme) is dropped;
- each inline ``<script>`` moves to a file beside its page and ``onclick="f('x')"`` becomes
  ``data-ccms-call``/``data-ccms-arg`` wired by ``static/ccms/gx-offline.js``, so the CSP allows
  scripts from the server itself only, no inline code;
- the copied ``static/`` folder is deleted: :func:`asset_file` resolves ``<site>/static/...`` to the
  installed packages, and the UI plugin serves it from there (one copy per installation).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

from ccms_attendance.paths import PACKAGE_DIR

STATIC = "static"
OWN_ASSETS = PACKAGE_DIR / "validation" / "static"

#: CDN URL fragment -> what replaces its tag: a path under the site's static/ folder, or None (dropped).
_CDN = [
    ("bootstrap-table-filter-control", None),
    ("bootstrap-table.min.css", "ccms/gx-offline.css"),
    ("bootstrap-table.min.js", "ccms/bootstrap-table-lite.js"),
    ("bootstrap/4.3.1/css/bootstrap.min.css", "vendor/bootstrap/css/bootstrap.min.css"),
    ("bootstrap/4.3.1/js/bootstrap.min.js", "vendor/bootstrap/js/bootstrap.bundle.min.js"),
    ("popper", None),  # in Bootstrap's bundle
    ("font-awesome", "vendor/font-awesome/css/all.min.css"),
    ("jquery-3.7.1.min.js", "vendor/jquery/jquery.min.js"),
    ("logo-long.png", "images/logo-long.png"),  # GX's own copy of its logo
    ("bootstrap-datepicker", None),
    ("bootstrap-prefers-dark", None),
    ("/vega", None),  # charts of profiling results; the project's suites render none
]
_LINK = re.compile(r"<link\b[^>]*?\bhref=\"(?P<url>(?:https?:)?//[^\"]+)\"[^>]*>")
_SCRIPT_SRC = re.compile(r"<script\b[^>]*?\bsrc=\"(?P<url>(?:https?:)?//[^\"]+)\"[^>]*>\s*</script>")
_IMG_SRC = re.compile(r"(<img\b[^>]*?\bsrc=\")(?P<url>(?:https?:)?//[^\"]+)(\")")
_INLINE_SCRIPT = re.compile(r"<script>(?P<code>.*?)</script>", re.DOTALL)
_ONCLICK = re.compile(r"\bonclick=\"(?P<fn>[A-Za-z_]\w*)\((?:'(?P<arg>[^'\"]*)')?\)\"")
_CSS_URL = re.compile(r"url\('(?:https?:)?//[^']+'\)")
# Filters are bootstrap-table's filter-control extension, not available offline: no button for them.
_CLEAR_FILTERS = re.compile(r"<button\b[^>]*\bonclick=\"clearTableFilters\([^)]*\)\"[^>]*>\s*Clear Filters\s*</button>")
_FAVICON = re.compile(r"<link rel=\"shortcut icon\" href=\"[^\"]*\"")


def _vendor_dirs() -> dict[str, Path]:
    """The asset folders of the XStatic packages (imported lazily: only the writer and the server need them)."""
    import xstatic.pkg.bootstrap
    import xstatic.pkg.font_awesome
    import xstatic.pkg.jquery

    return {
        "vendor/bootstrap/": Path(xstatic.pkg.bootstrap.BASE_DIR),
        "vendor/jquery/": Path(xstatic.pkg.jquery.BASE_DIR),
        "vendor/font-awesome/": Path(xstatic.pkg.font_awesome.BASE_DIR),
    }


def gx_static_dir() -> Path:
    import great_expectations.render.view as view

    return Path(view.__file__).resolve().parent / "static"


def asset_file(relative: str) -> Path | None:
    """The installed file behind ``<site>/static/<relative>``, or None (unknown, or outside the asset folders)."""
    roots = {**_vendor_dirs(), "ccms/": OWN_ASSETS}
    for prefix, base in roots.items():
        if relative.startswith(prefix):
            return _within(base, relative[len(prefix) :])
    return _within(gx_static_dir(), relative)


def _within(base: Path, relative: str) -> Path | None:
    if not relative or "\x00" in relative or relative.startswith("/"):
        return None
    target = (base / relative).resolve()
    return target if target.is_relative_to(base.resolve()) and target.is_file() else None


def _replace_external(html: str, static: str) -> str:
    """Every CDN tag swapped for its local asset or dropped; any other external tag dropped too."""

    def local(url: str) -> str | None:
        return next((target for fragment, target in _CDN if fragment in url), None)

    def link(match: re.Match) -> str:
        target = local(match["url"])
        return f'<link rel="stylesheet" href="{static}{target}">' if target else ""

    def script(match: re.Match) -> str:
        target = local(match["url"])
        return f'<script src="{static}{target}"></script>' if target else ""

    def image(match: re.Match) -> str:
        target = local(match["url"]) or "images/short-logo.png"
        return f"{match[1]}{static}{target}{match[3]}"

    html = _LINK.sub(link, html)
    html = _SCRIPT_SRC.sub(script, html)
    html = _CSS_URL.sub(f"url('{static}images/logo-long.png')", html)  # the navbar's logo, in GX's inline style
    return _IMG_SRC.sub(image, html)


def _externalize_scripts(page: Path, html: str) -> str:
    """Inline scripts -> ``<page stem>.<sha256 prefix>.js`` beside the page; onclick -> data attributes."""

    def move(match: re.Match) -> str:
        code = match["code"]
        if not code.strip():
            return ""
        name = f"{page.stem}.{hashlib.sha256(code.encode()).hexdigest()[:12]}.js"
        (page.parent / name).write_text(code, encoding="utf-8")
        return f'<script src="{name}"></script>'

    def handler(match: re.Match) -> str:
        arg = f' data-ccms-arg="{match["arg"]}"' if match["arg"] is not None else ""
        return f'data-ccms-call="{match["fn"]}"{arg}'

    html = _INLINE_SCRIPT.sub(move, html)
    html = _CLEAR_FILTERS.sub("", html)
    return _ONCLICK.sub(handler, html)


def make_offline(site_dir: Path) -> None:
    """Rewrite every page of the GX site in ``site_dir`` to local assets and delete its ``static/`` copy."""
    site_dir = Path(site_dir)
    for old in site_dir.rglob("*.js"):  # scripts moved out by an earlier build of this site
        old.unlink()
    for page in site_dir.rglob("*.html"):
        if STATIC in page.relative_to(site_dir).parts:
            continue
        depth = len(page.relative_to(site_dir).parts) - 1
        static = "../" * depth + f"{STATIC}/"
        html = page.read_text(encoding="utf-8")
        html = _replace_external(html, static)
        html = _FAVICON.sub(f'<link rel="shortcut icon" href="{static}images/favicon.ico"', html)
        html = _externalize_scripts(page, html)
        html = html.replace("</head>", f'<script src="{static}ccms/gx-offline.js"></script>\n</head>', 1)
        page.write_text(html, encoding="utf-8")
    shutil.rmtree(site_dir / STATIC, ignore_errors=True)
