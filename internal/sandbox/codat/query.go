package codat

import (
	"strconv"
	"strings"
	"time"
)

// record is how Codat's query language and orderBy see one item: field name
// (dotted for nested fields, e.g. "balance.current") to a value of type string,
// float64, bool, time.Time, or nil when the item has no value for the field.
// Record functions set every field the model has, nil included, so unknown
// fields can be told apart from empty ones.
type record map[string]any

// predicate is a compiled Codat query.
type predicate func(record) bool

// queryError says why a query could not be compiled; property is set when the
// query named a field the model does not have.
type queryError struct {
	property string
}

// compileQuery parses Codat's query language as far as the emulator needs it:
// conditions "field op value" with op one of = != > < >= <= ~ (contains),
// combined with && and ||, grouped with { }. && binds tighter than ||.
// fields is the set of valid field names.
func compileQuery(q string, fields record) (predicate, *queryError) {
	p := &queryParser{src: q, fields: fields}
	pred, ok := p.parseOr()
	if !ok || p.err != nil {
		if p.err != nil {
			return nil, p.err
		}
		return nil, &queryError{}
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, &queryError{}
	}
	return pred, nil
}

type queryParser struct {
	src    string
	pos    int
	fields record
	err    *queryError
}

func (p *queryParser) skipSpace() {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
}

func (p *queryParser) consume(tok string) bool {
	p.skipSpace()
	if strings.HasPrefix(p.src[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

func (p *queryParser) parseOr() (predicate, bool) {
	left, ok := p.parseAnd()
	if !ok {
		return nil, false
	}
	for p.consume("||") {
		right, ok := p.parseAnd()
		if !ok {
			return nil, false
		}
		l := left
		left = func(r record) bool { return l(r) || right(r) }
	}
	return left, true
}

func (p *queryParser) parseAnd() (predicate, bool) {
	left, ok := p.parseFactor()
	if !ok {
		return nil, false
	}
	for p.consume("&&") {
		right, ok := p.parseFactor()
		if !ok {
			return nil, false
		}
		l := left
		left = func(r record) bool { return l(r) && right(r) }
	}
	return left, true
}

func (p *queryParser) parseFactor() (predicate, bool) {
	if p.consume("{") {
		inner, ok := p.parseOr()
		if !ok || !p.consume("}") {
			return nil, false
		}
		return inner, true
	}
	return p.parseCondition()
}

// operators, longest first so that ">=" is not read as ">".
var queryOperators = []string{">=", "<=", "!=", "=", ">", "<", "~"}

func (p *queryParser) parseCondition() (predicate, bool) {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.src) && isFieldChar(p.src[p.pos]) {
		p.pos++
	}
	field := p.src[start:p.pos]
	if field == "" {
		return nil, false
	}
	op := ""
	p.skipSpace()
	for _, candidate := range queryOperators {
		if strings.HasPrefix(p.src[p.pos:], candidate) {
			op = candidate
			p.pos += len(candidate)
			break
		}
	}
	if op == "" {
		return nil, false
	}
	// The value runs to the next && or || or closing brace.
	rest := p.src[p.pos:]
	end := len(rest)
	for _, stop := range []string{"&&", "||", "}"} {
		if i := strings.Index(rest, stop); i >= 0 && i < end {
			end = i
		}
	}
	value := strings.TrimSpace(rest[:end])
	p.pos += end
	if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
		value = value[1 : len(value)-1]
	}
	if _, known := p.fields[field]; !known {
		p.err = &queryError{property: field}
		return nil, false
	}
	return func(r record) bool { return compare(r[field], op, value) }, true
}

func isFieldChar(c byte) bool {
	return c == '.' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// compare applies op to a field value and the query's literal, interpreting
// the literal with the field's type.
func compare(fieldValue any, op, literal string) bool {
	if fieldValue == nil {
		isNull := strings.EqualFold(literal, "null")
		switch op {
		case "=":
			return isNull
		case "!=":
			return !isNull
		}
		return false
	}
	if op == "~" {
		return strings.Contains(strings.ToLower(valueString(fieldValue)), strings.ToLower(literal))
	}
	var c int
	switch v := fieldValue.(type) {
	case string:
		c = strings.Compare(v, literal)
	case float64:
		f, err := strconv.ParseFloat(literal, 64)
		if err != nil {
			return op == "!="
		}
		c = cmpFloat(v, f)
	case bool:
		b, err := strconv.ParseBool(strings.ToLower(literal))
		if err != nil || (op != "=" && op != "!=") {
			return op == "!="
		}
		if v == b {
			c = 0
		} else {
			c = 1
		}
	case time.Time:
		t, ok := parseQueryTime(literal)
		if !ok {
			return op == "!="
		}
		c = v.Compare(t)
	default:
		return false
	}
	switch op {
	case "=":
		return c == 0
	case "!=":
		return c != 0
	case ">":
		return c > 0
	case "<":
		return c < 0
	case ">=":
		return c >= 0
	case "<=":
		return c <= 0
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func valueString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return formatTime(x)
	}
	return ""
}

// parseQueryTime accepts the DateTime forms Codat documents; dates without a
// zone are read as UTC.
func parseQueryTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// compareValues orders two field values of the same field; nil sorts first.
func compareValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch x := a.(type) {
	case string:
		return strings.Compare(x, b.(string))
	case float64:
		return cmpFloat(x, b.(float64))
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case time.Time:
		return x.Compare(b.(time.Time))
	}
	return 0
}
