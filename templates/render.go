package templates

import (
	"fmt"
	"html"
	"strings"
)

// Render expands the Handlebars subset project templates use (the format wash's
// project-generate.toml templates are written in):
//
//	{{name}}          the value, HTML-escaped as Handlebars does
//	{{{name}}}        the value as is
//	{{#if name}}…{{else}}…{{/if}}, {{#unless name}}…{{/unless}}
//	{{! comment }}, {{!-- comment --}}
//	\{{               a literal "{{"
//
// An undefined name renders empty, as in Handlebars. Helpers with arguments are refused with an
// error naming the line, so a template never renders half-understood.
func Render(text string, values map[string]any) (string, error) {
	nodes, rest, err := parse(text, 0, "")
	if err != nil {
		return "", err
	}
	if rest != len(text) {
		return "", fmt.Errorf("line %d: unexpected block end", lineOf(text, rest))
	}
	var b strings.Builder
	emit(&b, nodes, values)
	return b.String(), nil
}

type node struct {
	text     string // literal
	name     string // variable
	raw      bool   // {{{ }}}
	block    string // "if" or "unless"
	body     []node
	elseBody []node
}

// parse reads nodes from text[pos:] until the end or until {{/closing}}; it returns the index
// just past the closing tag (or len(text)).
func parse(text string, pos int, closing string) ([]node, int, error) {
	var out []node
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, node{text: lit.String()})
			lit.Reset()
		}
	}
	for pos < len(text) {
		i := strings.Index(text[pos:], "{{")
		if i < 0 {
			lit.WriteString(text[pos:])
			pos = len(text)
			break
		}
		start := pos + i
		if start > 0 && text[start-1] == '\\' {
			lit.WriteString(text[pos : start-1])
			lit.WriteString("{{")
			pos = start + 2
			continue
		}
		lit.WriteString(text[pos:start])
		raw := strings.HasPrefix(text[start:], "{{{")
		open, close := "{{", "}}"
		if raw {
			open, close = "{{{", "}}}"
		}
		if strings.HasPrefix(text[start:], "{{!--") {
			end := strings.Index(text[start:], "--}}")
			if end < 0 {
				return nil, 0, fmt.Errorf("line %d: unterminated comment", lineOf(text, start))
			}
			pos = start + end + 4
			continue
		}
		end := strings.Index(text[start+len(open):], close)
		if end < 0 {
			return nil, 0, fmt.Errorf("line %d: %q is not closed", lineOf(text, start), open)
		}
		expr := strings.TrimSpace(text[start+len(open) : start+len(open)+end])
		pos = start + len(open) + end + len(close)
		switch {
		case strings.HasPrefix(expr, "!"):
			continue
		case strings.HasPrefix(expr, "#"):
			kind, arg, _ := strings.Cut(strings.TrimSpace(expr[1:]), " ")
			arg = strings.TrimSpace(arg)
			if kind != "if" && kind != "unless" || arg == "" || strings.ContainsAny(arg, " \t") {
				return nil, 0, fmt.Errorf("line %d: unsupported block {{%s}} (templates may use {{#if name}} and {{#unless name}})", lineOf(text, start), expr)
			}
			flush()
			body, next, err := parse(text, pos, kind)
			if err != nil {
				return nil, 0, err
			}
			n := node{block: kind, name: arg}
			for j, c := range body {
				if c.name == "else" && c.block == "" && !c.raw && c.text == "" {
					n.body, n.elseBody = body[:j], body[j+1:]
					break
				}
			}
			if n.body == nil && n.elseBody == nil {
				n.body = body
			}
			out = append(out, n)
			pos = next
		case strings.HasPrefix(expr, "/"):
			name := strings.TrimSpace(expr[1:])
			if name != closing {
				return nil, 0, fmt.Errorf("line %d: {{/%s}} does not close an open block", lineOf(text, start), name)
			}
			flush()
			return out, pos, nil
		default:
			if expr == "" || strings.ContainsAny(expr, " \t\n") {
				return nil, 0, fmt.Errorf("line %d: unsupported expression {{%s}} (helpers are not supported; use {{name}})", lineOf(text, start), expr)
			}
			flush()
			out = append(out, node{name: expr, raw: raw})
		}
	}
	if closing != "" {
		return nil, 0, fmt.Errorf("{{#%s}} is never closed", closing)
	}
	flush()
	return out, pos, nil
}

func emit(b *strings.Builder, nodes []node, values map[string]any) {
	for _, n := range nodes {
		switch {
		case n.block == "if":
			if truthy(values[n.name]) {
				emit(b, n.body, values)
			} else {
				emit(b, n.elseBody, values)
			}
		case n.block == "unless":
			if !truthy(values[n.name]) {
				emit(b, n.body, values)
			} else {
				emit(b, n.elseBody, values)
			}
		case n.name != "":
			v, ok := values[n.name]
			if !ok || v == nil {
				continue
			}
			s := fmt.Sprint(v)
			if !n.raw {
				s = escape(s)
			}
			b.WriteString(s)
		default:
			b.WriteString(n.text)
		}
	}
}

// escape matches Handlebars' default escaping (HTML plus backtick and equals sign).
func escape(s string) string {
	s = html.EscapeString(s)
	s = strings.ReplaceAll(s, "&#39;", "&#x27;")
	s = strings.ReplaceAll(s, "&#34;", "&quot;")
	s = strings.ReplaceAll(s, "`", "&#x60;")
	return strings.ReplaceAll(s, "=", "&#x3D;")
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case int64:
		return x != 0
	case float64:
		return x != 0
	case []any:
		return len(x) > 0
	}
	return true
}

func lineOf(text string, pos int) int { return strings.Count(text[:pos], "\n") + 1 }
