-- Quarto's conditional content (https://quarto.org/docs/authoring/conditional.html) for the
-- pip-only stand-in: a div `::: {.content-visible when-format="html"}` is kept only in the
-- named formats, `::: {.content-hidden when-format="html"}` everywhere else; `unless-format`
-- inverts the condition. The classes and attributes are taken off what is kept. Quarto
-- resolves these before its own filters and the project's; the stand-in runs this first.
-- A format name means what it means to Quarto: "html" any HTML writer, "pdf" the writers
-- that lead to a PDF here (Typst; LaTeX), "docx"/"typst" themselves. Written as a Lua
-- filter because pandoc has already parsed the div (nesting, attributes) for it.
local ALIASES = {
  html = { "html", "html4", "html5" },
  pdf = { "typst", "latex", "beamer" },
  docx = { "docx" },
  typst = { "typst" },
}

local function is_format(name)
  local names = ALIASES[name]
  if not names then
    error("conditional content: format '" .. name .. "' is not one the pip-only renderer "
      .. "knows (html, pdf, docx, typst)")
  end
  for _, f in ipairs(names) do
    if FORMAT == f then
      return true
    end
  end
  return false
end

local function matches(list)
  for name in list:gmatch("[^%s,]+") do
    if is_format(name) then
      return true
    end
  end
  return false
end

function Div(div)
  local visible = div.classes:includes("content-visible")
  local hidden = div.classes:includes("content-hidden")
  if not (visible or hidden) then
    return nil
  end
  local when, unless = div.attributes["when-format"], div.attributes["unless-format"]
  local condition = true
  if when then
    condition = matches(when)
  elseif unless then
    condition = not matches(unless)
  end
  local keep = (visible and condition) or (hidden and not condition)
  if not keep then
    return {}
  end
  return div.content
end
