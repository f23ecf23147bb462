"""Markdown with maths, as HTML a browser shows without any script or network: `$...$` and
`$$...$$` become MathML (which browsers render natively) through the latex2mathml package.

Markdown's own raw HTML is escaped. latex2mathml does not escape everything it copies from the
formula (`\\text{<img ...>}` comes out as a tag), so its output is parsed and written again from
an allow-list: MathML elements and presentation attributes only, every text escaped. A formula
that cannot be converted, or that would need anything else, is shown as escaped TeX code.
"""
from __future__ import annotations

import html
from html.parser import HTMLParser

import mistune

MATHML_TAGS = frozenset("""math semantics annotation mrow mi mo mn ms mtext mspace msub msup msubsup mfrac msqrt
mroot munder mover munderover mtable mtr mtd mlabeledtr mstyle mpadded mphantom menclose merror mfenced
maction mprescripts none mmultiscripts""".split())
MATHML_ATTRIBUTES = frozenset("""xmlns display mathvariant stretchy fence separator lspace rspace form largeop
movablelimits accent accentunder linethickness columnalign rowalign columnspacing rowspacing columnlines rowlines
frame width height depth notation open close separators scriptlevel displaystyle minsize maxsize symmetric
encoding""".split())


class _Rewriter(HTMLParser):
    """Writes MathML back from its parse: allowed elements and attributes only, text escaped."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.bad = False

    def handle_starttag(self, tag, attrs):
        if tag not in MATHML_TAGS or any(name not in MATHML_ATTRIBUTES for name, _ in attrs):
            self.bad = True
            return
        values = "".join(f' {name}="{html.escape(value or "", quote=True)}"' for name, value in attrs)
        self.out.append(f"<{tag}{values}>")

    def handle_endtag(self, tag):
        if tag not in MATHML_TAGS:
            self.bad = True
            return
        self.out.append(f"</{tag}>")

    def handle_data(self, data):
        self.out.append(html.escape(data, quote=False))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if not self.bad:
            self.out.append(f"</{tag}>")

    def unknown_decl(self, data):
        self.bad = True

    def handle_comment(self, data):
        self.bad = True

    def handle_pi(self, data):
        self.bad = True


def _clean(mathml: str) -> str | None:
    rewriter = _Rewriter()
    rewriter.feed(mathml)
    rewriter.close()
    return None if rewriter.bad else "".join(rewriter.out)


class _MathRenderer(mistune.HTMLRenderer):
    def block_math(self, text: str) -> str:
        return to_mathml(text, block=True)

    def inline_math(self, text: str) -> str:
        return to_mathml(text, block=False)


def to_mathml(latex: str, block: bool = False) -> str:
    from latex2mathml.converter import convert

    try:
        clean = _clean(convert(latex.strip(), display="block" if block else "inline"))
    except Exception:  # noqa: BLE001 - latex2mathml raises many kinds; show the source instead
        clean = None
    return clean if clean is not None else f'<code class="tex">{html.escape(latex)}</code>'


render_markdown = mistune.create_markdown(escape=True, renderer=_MathRenderer(escape=True),
                                          plugins=["table", "strikethrough", "math"])
