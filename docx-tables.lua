-- Column widths for Word tables (format: docx only), run by both engines: Quarto through
-- `filters:` under `format: docx` in _quarto.yml, the pip-only renderer (analysis/render) by
-- reading that same option.
--
-- Why: with `tbl-colwidths: false` pandoc gives a Word table equal columns (5.5 in / number of
-- columns, whatever the page) and no fixed layout. LibreOffice keeps those equal columns and Word's autofit
-- squeezed the wide ones, so header words broke inside ("Nonresponder|s", "Characte|ristic",
-- issue 14) while long sentences stood in narrow columns. This filter sizes each column from its
-- content, as a browser's automatic table layout does: every column at least as wide as its
-- widest word, the rest of the text width shared in proportion to the columns' longest texts.
-- pandoc then writes the widths with a fixed layout (w:tblLayout fixed), which Word and
-- LibreOffice both keep. Written here because neither pandoc nor Quarto sizes Word columns from
-- their content.
--
-- Inside table cells a line may break after "_" (a zero-width space follows it), as
-- report-header.typ allows in the PDF: parameter names such as
-- sensitivity_grid.ild_criteria_required are otherwise one word wider than any column.
--
-- A table whose widest words do not fit the text width even at 8pt is set on a landscape page
-- of its own: a section ends before it and another after it (raw OpenXML w:sectPr paragraphs,
-- ECMA-376 17.6.17; each states its full page, as sections inherit nothing), the technique of
-- Quarto's own `.landscape` div for docx (quarto-cli filters/quarto-post/landscape.lua), here
-- with the reference document's paper and margins instead of A4.
--
-- Quarto renders a captioned, labelled table for docx as a one-cell layout table whose column
-- is centred, holding a block with the table's `tbl-` id, the caption (a paragraph styled
-- "Image Caption" through raw OpenXML) and the table (quarto-cli filters/customnodes/
-- floatreftarget.lua); at `post-render` this filter sees all of it. Observed with Quarto 1.10
-- (/work/shared/QUARTO.md, defects 3 and 5): pandoc pushes the layout cell's centring into
-- every nested paragraph, so each data cell carried two alignments and Word centred them all,
-- and the caption's style does not keep with the next paragraph, so a caption could end a page
-- with its table on the next. This filter unwraps that layout table: the block with the `tbl-`
-- id (a Word bookmark, so cross-references still resolve), the caption in pandoc's "Table
-- Caption" style (keep with next) and the table, sized for the text width -- the structure the
-- pip-only renderer writes. Layout tables around figures are left alone.
--
-- Word's image description (alt text) comes from an image's inline text; for Word Quarto moves
-- `fig-alt` into the image's `alt` attribute and leaves that text empty (QUARTO.md, defect 4).
-- Where it is empty, the `alt` (or `fig-alt`) text is copied into it.
--
-- The page and type sizes are those of reference.docx (analysis/render/docx_reference.py, from
-- _quarto.yml's typst options); tests/test_render.py checks that the two agree.
local PAGE_W_TW, PAGE_H_TW = 12240, 15840 -- us-letter, twips (1/20 pt)
local MARGIN_X_TW, MARGIN_Y_TW = 1134, 1247 -- 2cm left and right, 2.2cm top and bottom
local TEXT_WIDTH_PT = (PAGE_W_TW - 2 * MARGIN_X_TW) / 20      -- 498.6
local LANDSCAPE_WIDTH_PT = (PAGE_H_TW - 2 * MARGIN_X_TW) / 20 -- 678.6
local FONT_PT = 8.0         -- the "Table" style: 0.8 x the 10pt body
local PAD_PT = 10.8         -- the "Table" style's cell margins, 108 twips each side
-- Glyph widths in ems, on the safe side: those of DejaVu Sans, one of the widest common faces
-- (LibreOffice's stand-in for Word's Aptos), rounded up by class of character.
local function glyph_em(c)
  if c:match("[mwMW%%@]") then return 0.98 end
  if c:match("%u") then return 0.80 end
  if c:match("[ijlftr%.,:;'!|%(%)%[%] ]") then return 0.42 end
  if #c > 1 then return 0.85 end -- outside ASCII: Greek, minus, dashes, quotes, superscripts
  return 0.65                    -- other letters, digits (0.64 em) and signs
end
local SLACK_PT = 1.0        -- rounding of widths to 1/1000 and to whole twips
local ZWSP = "\u{200B}"

if not FORMAT:match("docx") then
  return {}
end

local function width_pt(text)
  local em = 0
  for _, code in utf8.codes(text) do
    em = em + glyph_em(utf8.char(code))
  end
  return em * FONT_PT + PAD_PT + SLACK_PT
end

-- The widest unbreakable piece of a cell and the width of its whole text on one line.
local function measure(cell)
  local text = pandoc.utils.stringify(cell.contents):gsub(ZWSP, "")
  local widest = PAD_PT
  for word in text:gmatch("%S+") do
    for piece in (word:gsub("_", "_\n")):gmatch("[^\n]+") do
      widest = math.max(widest, width_pt(piece))
    end
  end
  return widest, width_pt(text)
end

local function rows_of(tbl)
  local rows = {}
  for _, row in ipairs(tbl.head.rows) do rows[#rows + 1] = row end
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.head) do rows[#rows + 1] = row end
    for _, row in ipairs(body.body) do rows[#rows + 1] = row end
  end
  for _, row in ipairs(tbl.foot.rows) do rows[#rows + 1] = row end
  return rows
end

local function column_widths(tbl, width)
  local n = #tbl.colspecs
  local least, natural = {}, {}
  for i = 1, n do least[i], natural[i] = PAD_PT, PAD_PT end
  for _, row in ipairs(rows_of(tbl)) do
    local col = 1
    for _, cell in ipairs(row.cells) do
      if cell.col_span == 1 and col <= n then
        local w, nat = measure(cell)
        least[col] = math.max(least[col], w)
        natural[col] = math.max(natural[col], nat)
      end
      col = col + cell.col_span
    end
  end
  local sum_least, sum_natural = 0, 0
  for i = 1, n do
    sum_least, sum_natural = sum_least + least[i], sum_natural + natural[i]
  end
  local widths = {}
  for i = 1, n do
    if sum_natural <= width then
      widths[i] = natural[i]                 -- the whole table fits on one line per row
    elseif sum_least >= width then
      widths[i] = least[i] * width / sum_least  -- cannot fit: words will break
    else
      local spare = width - sum_least
      widths[i] = least[i] + spare * (natural[i] - least[i]) / (sum_natural - sum_least)
    end
  end
  return widths, sum_least
end

local function break_after_underscore(cell)
  return pandoc.walk_block(pandoc.Div(cell.contents), {
    Str = function(s)
      if s.text:find("_", 1, true) then
        -- idempotent: a cell already given its break chances keeps them
        return pandoc.Str((s.text:gsub(ZWSP, ""):gsub("_", "_" .. ZWSP)))
      end
    end,
  }).content
end

-- Column widths for ``width`` (pt), as fractions of it, and "_" break chances. Returns the
-- widest words' total, to tell whether the table fits.
local function fit(tbl, width)
  local widths, least = column_widths(tbl, width)
  for i, spec in ipairs(tbl.colspecs) do
    -- floor to 1/1000: the columns never add up to more than the width
    tbl.colspecs[i] = { spec[1], math.floor(widths[i] / width * 1000) / 1000 }
  end
  for _, row in ipairs(rows_of(tbl)) do
    for _, cell in ipairs(row.cells) do
      cell.contents = break_after_underscore(cell)
    end
  end
  return tbl, least
end

local function section_end(width_tw, height_tw, landscape)
  return pandoc.RawBlock("openxml", string.format(
    '<w:p><w:pPr><w:sectPr><w:pgSz w:w="%d" w:h="%d"%s />'
    .. '<w:pgMar w:top="%d" w:right="%d" w:bottom="%d" w:left="%d" w:header="720" '
    .. 'w:footer="720" w:gutter="0" /></w:sectPr></w:pPr></w:p>',
    width_tw, height_tw, landscape and ' w:orient="landscape"' or "",
    MARGIN_Y_TW, MARGIN_X_TW, MARGIN_Y_TW, MARGIN_X_TW))
end

-- Quarto's layout table around a captioned float: a single cell holding a table.
local function is_layout_table(tbl)
  if #tbl.colspecs ~= 1 then return false end
  local found = false
  for _, row in ipairs(rows_of(tbl)) do
    for _, cell in ipairs(row.cells) do
      pandoc.walk_block(pandoc.Div(cell.contents), { Table = function() found = true end })
    end
  end
  return found
end

-- The table (or Quarto's layout table around it) as it goes on the page: alone in a landscape
-- section when its widest words need more than the portrait text width.
local function place(block, least)
  if least <= TEXT_WIDTH_PT then
    return block
  end
  return { section_end(PAGE_W_TW, PAGE_H_TW, false), block,
           section_end(PAGE_H_TW, PAGE_W_TW, true) }
end

local function holds_image(tbl)
  local found = false
  for _, row in ipairs(rows_of(tbl)) do
    for _, cell in ipairs(row.cells) do
      pandoc.walk_block(pandoc.Div(cell.contents), { Image = function() found = true end })
    end
  end
  return found
end

-- Quarto's caption paragraph: a raw OpenXML paragraph-properties run ("Image Caption") first.
local function is_quarto_caption(block)
  local first = block.t == "Para" and block.content[1]
  return first and first.t == "RawInline" and first.format == "openxml"
    and first.text:find("<w:pPr>", 1, true) ~= nil
end

-- The caption in pandoc's "Table Caption" style (keep with next), its own properties dropped.
local function table_caption(para)
  local inlines = pandoc.Inlines({})
  for i = 2, #para.content do inlines:insert(para.content[i]) end
  return pandoc.Div({ pandoc.Para(inlines) },
                   pandoc.Attr("", {}, { ["custom-style"] = "Table Caption" }))
end

-- The contents of Quarto's layout table, unwrapped: captions restyled, each table inside sized
-- for the text width (landscape if need be). Returns the blocks and their widest words' total.
local function unwrap(layout)
  local least = 0
  local cell = rows_of(layout)[1].cells[1]
  local blocks = pandoc.Div(cell.contents):walk({
    Para = function(para)
      if is_quarto_caption(para) then return table_caption(para) end
    end,
    Table = function(inner)
      local _, l = fit(inner, TEXT_WIDTH_PT)
      if l > TEXT_WIDTH_PT then
        fit(inner, LANDSCAPE_WIDTH_PT)
      end
      least = math.max(least, l)
      return inner
    end,
  }).content
  return blocks, least
end

local function handle(tbl)
  if holds_image(tbl) then
    return tbl -- Quarto's layout table around a figure (or a panel of figures): not data
  end
  if not is_layout_table(tbl) then
    local _, least = fit(tbl, TEXT_WIDTH_PT)
    if least > TEXT_WIDTH_PT then
      fit(tbl, LANDSCAPE_WIDTH_PT)
    end
    return place(tbl, least)
  end
  -- Quarto's layout table: its contents take its place (caption and table together, in a
  -- landscape section if the table needs one).
  local blocks, least = unwrap(tbl)
  return place(pandoc.Div(blocks), least)
end

-- Tables among the document's blocks and inside divs and block quotes, walked from the top
-- (not pandoc's bottom-up Table filter) so that a table is known to be inside Quarto's layout
-- table, where no section may end.
local function process(blocks)
  local out = pandoc.Blocks({})
  for _, block in ipairs(blocks) do
    if block.t == "Table" then
      local placed = handle(block)
      if placed.t then out:insert(placed) else out:extend(placed) end
    else
      if block.t == "Div" or block.t == "BlockQuote" then
        block.content = process(block.content)
      end
      out:insert(block)
    end
  end
  return out
end

-- Word's alt text: the image's inline text, from `alt` / `fig-alt` where that text is empty.
local function alt_text(img)
  if #img.caption > 0 then return nil end
  local alt = img.attributes["alt"] or img.attributes["fig-alt"]
  if alt == nil or alt == "" then return nil end
  img.caption = pandoc.Inlines({ pandoc.Str(alt) })
  return img
end

-- Images first (inside figures' layout tables too), then the tables, walked from the top.
function Pandoc(doc)
  doc = doc:walk({ Image = alt_text })
  doc.blocks = process(doc.blocks)
  return doc
end
