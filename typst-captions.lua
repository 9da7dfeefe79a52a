-- Captions of unlabelled tables in the PDF (format: typst only), run by both engines: Quarto
-- through `filters:` under `format: typst` in _quarto.yml (at `post-render`), the pip-only
-- renderer (analysis/render) by reading that same option.
--
-- Why: a table with a caption but no `tbl-` id (the Assumptions section's two tables, which
-- must not renumber the paper's Tables 1-3, and the comparison tables of a variant run) lost
-- its caption in Quarto's PDF (/work/shared/QUARTO.md, defect 1). After its own filters Quarto
-- marks every table `typst:no-figure` for Typst (quarto-cli filters/quarto-post/typst.lua,
-- quarto-dev/quarto-cli#10438; the caption loss is quarto-dev/quarto-cli#11733), and pandoc's
-- Typst writer then writes a bare `#table(...)`, without the caption (pandoc's manual, "Typst":
-- `typst:no-figure`). This filter takes the mark off such tables, so pandoc writes them as a
-- captioned `figure(kind: table)`; report-header.typ sets these unnumbered with the caption on
-- top. A labelled table is left alone: Quarto writes it as its own numbered figure
-- (`kind: "quarto-float-tbl"`), with the caption, around a bare table. The pip-only renderer
-- never sets the mark, so there the filter changes nothing.
if not FORMAT:match("typst") then
  return {}
end

local NO_FIGURE = "typst:no-figure"

function Table(tbl)
  if #tbl.caption.long == 0 or tbl.identifier:match("^tbl%-") then
    return nil
  end
  local kept = tbl.classes:filter(function(class) return class ~= NO_FIGURE end)
  if #kept == #tbl.classes then
    return nil
  end
  tbl.classes = kept
  return tbl
end
