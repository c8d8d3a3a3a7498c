"""The Markdown renderer: the same ``Story`` as ``report.md``, charts as image files beside it.

Every text of the story goes through ``markdown_text.md_text`` (data text may be anywhere in it).
"""

from __future__ import annotations

from collections.abc import Mapping

from custlens.report.html import format_value
from custlens.report.markdown_text import md_table, md_text
from custlens.story import Bullets, Cards, Chart, Findings, Links, Paragraph, Story, Table

__all__ = ["md_text", "render_markdown"]


def _table(block: Table) -> list[str]:
    frame = block.frame
    percent = set(block.percent)
    out = [f"**{md_text(block.title)}**", ""]
    if block.caption:
        out += [md_text(block.caption), ""]
    if frame.empty:
        return [*out, "_(no rows)_", ""]
    # the column names as the HTML report shows them ("revenue share", not "revenue_share")
    shown = {c: str(c).replace("_", " ") for c in frame.columns}
    percent = {shown[c] for c in percent if c in shown}
    frame = frame.rename(columns=shown)
    out.append(md_table(frame, cell=lambda c, v: format_value(v, c in percent)[0]))
    if block.total_rows:
        where = f"; the full table is {block.source}" if block.source else ""
        out += ["", f"First {len(frame)} of {block.total_rows:,} rows{md_text(where)}."]
    return [*out, ""]


def render_markdown(story: Story, images: Mapping[str, str]) -> str:
    """``report.md``; ``images`` maps a chart name to its image path relative to the report."""
    out = [f"# {md_text(story.title)}", "", md_text(story.subtitle), "", "## Contents", ""]
    out += [f"- [{md_text(s.title)}](#{s.id})" for s in story.sections]
    for section in story.sections:
        out += ["", f'<a id="{section.id}"></a>', "", f"## {md_text(section.title)}", ""]
        if section.lead:
            out += [
                f"_{md_text(section.lead)}_" if section.status != "ok" else md_text(section.lead),
                "",
            ]
        out += [f"- {md_text(f.text)}" for f in section.findings]
        if section.findings:
            out.append("")
        for block in section.blocks:
            if isinstance(block, Cards):
                out += ["| " + " | ".join(md_text(k.label) for k in block.items) + " |"]
                out += ["|" + "|".join("---" for _ in block.items) + "|"]
                out += [
                    "| "
                    + " | ".join(
                        f"**{md_text(k.value)}**" + (f" ({md_text(k.detail)})" if k.detail else "")
                        for k in block.items
                    )
                    + " |",
                    "",
                ]
            elif isinstance(block, Findings | Bullets):
                if block.title:
                    out += [f"### {md_text(block.title)}", ""]
                items = (
                    [f.text for f in block.items] if isinstance(block, Findings) else block.items
                )
                marker = "1." if isinstance(block, Findings) else "-"
                out += [f"{marker} {md_text(i)}" for i in items] + [""]
            elif isinstance(block, Paragraph):
                out += [md_text(block.text), ""]
            elif isinstance(block, Links):
                if block.title:
                    out += [f"### {md_text(block.title)}", ""]
                out += [
                    f"- [{md_text(link.label)}]({link.href})"
                    + (f" ({md_text(link.detail)})" if link.detail else "")
                    for link in block.items
                ] + [""]
            elif isinstance(block, Chart):
                if block.name in images:
                    out += [f"![{md_text(block.title)}]({images[block.name]})", ""]
                else:
                    out += [f"_Chart: {md_text(block.title)} (in report.html)_", ""]
                if block.caption:
                    out += [md_text(block.caption), ""]
            elif isinstance(block, Table):
                out += _table(block)
    return "\n".join(out).rstrip() + "\n"
