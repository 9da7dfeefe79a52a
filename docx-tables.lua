-- Column widths for Word tables (format: docx only), run by both engines: Quarto through
-- `filters:` under `format: docx` in _quarto.yml, the pip-only renderer (analysis/render) by
-- reading that same option.
--
-- Why: with `tbl-colwidths: false` pandoc gives a Word table equal columns (text width / number
-- of columns) and no fixed layout. LibreOffice keeps those equal columns and Word's autofit
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
-- The page and type sizes are those of reference.docx (analysis/render/docx_reference.py, from
-- _quarto.yml's typst options); tests/test_render.py checks that the two agree.
local TEXT_WIDTH_PT = 498.6 -- us-letter (612 pt) less 2 x 2cm margins
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
  local text = pandoc.utils.stringify(cell.contents)
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

local function column_widths(tbl)
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
    if sum_natural <= TEXT_WIDTH_PT then
      widths[i] = natural[i]                 -- the whole table fits on one line per row
    elseif sum_least >= TEXT_WIDTH_PT then
      widths[i] = least[i] * TEXT_WIDTH_PT / sum_least  -- cannot fit: words will break
    else
      local spare = TEXT_WIDTH_PT - sum_least
      widths[i] = least[i] + spare * (natural[i] - least[i]) / (sum_natural - sum_least)
    end
  end
  return widths
end

local function break_after_underscore(cell)
  return pandoc.walk_block(pandoc.Div(cell.contents), {
    Str = function(s)
      if s.text:find("_", 1, true) then
        return pandoc.Str((s.text:gsub("_", "_" .. ZWSP)))
      end
    end,
  }).content
end

function Table(tbl)
  local widths = column_widths(tbl)
  for i, spec in ipairs(tbl.colspecs) do
    -- floor to 1/1000: the columns never add up to more than the text width
    tbl.colspecs[i] = { spec[1], math.floor(widths[i] / TEXT_WIDTH_PT * 1000) / 1000 }
  end
  for _, row in ipairs(rows_of(tbl)) do
    for _, cell in ipairs(row.cells) do
      cell.contents = break_after_underscore(cell)
    end
  end
  return tbl
end
