package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/wormvault/wormvault"
)

// MaxDocumentSize is the largest policy document Parse accepts, in bytes.
const MaxDocumentSize = 20 << 10

// MaxSidLen is the longest statement id.
const MaxSidLen = 128

// Effect is what an applying statement says.
type Effect string

const (
	EffectAllow Effect = "ALLOW"
	EffectDeny  Effect = "DENY"
)

// Statement is one statement of a policy as written, for inspection.
type Statement struct {
	Sid        string
	Effect     Effect
	Principals []string
	Actions    []string
	Resources  []string
	// Condition is the CEL source, "" for none.
	Condition string
}

// Policy is a parsed, validated and compiled policy document. It is
// immutable and safe for concurrent use.
type Policy struct {
	stmts []statement
}

// statement is a Statement compiled for Eval.
type statement struct {
	Statement
	deny          bool
	anyPrincipal  bool
	principals    []string
	actions       actionSet
	actionGlobs   []glob
	anyResource   bool
	resourceGlobs []glob
	cond          *condition
}

// Statements returns a copy of the policy's statements in document order.
func (p *Policy) Statements() []Statement {
	out := make([]Statement, len(p.stmts))
	for i, s := range p.stmts {
		out[i] = Statement{
			Sid:        s.Sid,
			Effect:     s.Effect,
			Principals: append([]string(nil), s.Principals...),
			Actions:    append([]string(nil), s.Actions...),
			Resources:  append([]string(nil), s.Resources...),
			Condition:  s.Condition,
		}
	}
	return out
}

// document and statementDoc are the JSON form.
type document struct {
	Statements []statementDoc `json:"statements"`
}

type statementDoc struct {
	Sid        string   `json:"sid"`
	Effect     string   `json:"effect"`
	Principals []string `json:"principals"`
	Actions    []string `json:"actions"`
	Resources  []string `json:"resources"`
	Condition  string   `json:"condition"`
}

var (
	documentKeys  = map[string]bool{"statements": true}
	statementKeys = map[string]bool{"sid": true, "effect": true, "principals": true, "actions": true, "resources": true, "condition": true}
)

// Parse parses, validates and compiles a policy document. Every problem is
// a wormvault.InvalidArgument for the field "policy" naming the statement
// (by index, and sid when it has one) and, for a condition, the line:col of
// the CEL error.
func Parse(doc []byte) (*Policy, error) {
	if len(doc) > MaxDocumentSize {
		return nil, invalid("document is %d bytes, more than the limit of %d", len(doc), MaxDocumentSize)
	}
	if !utf8.Valid(doc) {
		return nil, invalid("document is not valid UTF-8")
	}
	if err := checkShape(doc); err != nil {
		return nil, err
	}
	var d document
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, jsonError(err)
	}
	if len(d.Statements) == 0 {
		return nil, invalid("statements must not be empty")
	}
	p := &Policy{stmts: make([]statement, len(d.Statements))}
	sids := make(map[string]int, len(d.Statements))
	for i, sd := range d.Statements {
		s := &p.stmts[i]
		s.Sid = sd.Sid
		if j, dup := sids[sd.Sid]; dup && sd.Sid != "" {
			return nil, invalid("%s: duplicate sid, statements[%d] has it too", s.where(i), j)
		}
		sids[sd.Sid] = i
		if err := compileStatement(s, sd); err != nil {
			return nil, invalid("%s: %v", s.where(i), err)
		}
	}
	return p, nil
}

func invalid(format string, args ...any) error {
	return wormvault.InvalidArgument("policy", format, args...)
}

func compileStatement(s *statement, sd statementDoc) error {
	if err := validateSid(sd.Sid); err != nil {
		return err
	}
	s.Statement = Statement{
		Sid:        sd.Sid,
		Effect:     Effect(sd.Effect),
		Principals: sd.Principals,
		Actions:    sd.Actions,
		Resources:  sd.Resources,
		Condition:  sd.Condition,
	}
	switch s.Effect {
	case EffectAllow:
	case EffectDeny:
		s.deny = true
	case "":
		return errors.New(`effect is required: "ALLOW" or "DENY"`)
	default:
		return fmt.Errorf(`effect must be "ALLOW" or "DENY", not %q`, sd.Effect)
	}

	if len(sd.Principals) == 0 {
		return errors.New(`principals must not be empty (use ["*"] for everyone)`)
	}
	for _, pr := range sd.Principals {
		if pr == "*" {
			s.anyPrincipal = true
			continue
		}
		if err := validatePrincipal(pr); err != nil {
			return err
		}
		s.principals = append(s.principals, pr)
	}

	if len(sd.Actions) == 0 {
		return errors.New("actions must not be empty")
	}
	for _, a := range sd.Actions {
		g := compileGlob(a)
		set := matchActions(g)
		if set.empty() {
			if len(g.parts) == 1 {
				return fmt.Errorf("unknown action %q (actions are %q followed by an RPC name, or %q)", a, ActionPrefix, ActionBypassGovernanceRetention)
			}
			return fmt.Errorf("action pattern %q matches no action", a)
		}
		s.actions[0] |= set[0]
		s.actions[1] |= set[1]
		s.actionGlobs = append(s.actionGlobs, g)
	}

	if len(sd.Resources) == 0 {
		return errors.New(`resources must not be empty (use ["*"] for everything)`)
	}
	for _, r := range sd.Resources {
		if err := validateResource(r); err != nil {
			return err
		}
		g := compileGlob(r)
		s.anyResource = s.anyResource || g.any()
		s.resourceGlobs = append(s.resourceGlobs, g)
	}

	if sd.Condition != "" {
		c, err := compileCondition(sd.Condition)
		if err != nil {
			return fmt.Errorf("condition %v", err)
		}
		s.cond = c
	}
	return nil
}

func validateSid(sid string) error {
	if len(sid) > MaxSidLen {
		return fmt.Errorf("sid must be at most %d bytes, got %d", MaxSidLen, len(sid))
	}
	for _, c := range sid {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.: ", c)) {
			return fmt.Errorf("sid may contain only letters, digits, space and -_.:, found %q", c)
		}
	}
	return nil
}

func validatePrincipal(p string) error {
	if p == "" {
		return errors.New("principal must not be empty")
	}
	if strings.Contains(p, "*") {
		return fmt.Errorf("principal %q: a principal is \"*\" or a name, never a pattern", p)
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("principal %q must not contain control characters", p)
		}
	}
	return nil
}

// validateResource accepts "*", "vaults/NAME" and "vaults/NAME/archives/KEY",
// where NAME and KEY may hold '*'.
func validateResource(r string) error {
	if r == "*" {
		return nil
	}
	rest, ok := strings.CutPrefix(r, "vaults/")
	if !ok {
		return fmt.Errorf(`resource %q must be "*", "vaults/NAME" or "vaults/NAME/archives/KEY"`, r)
	}
	name, key, hasKey := strings.Cut(rest, "/")
	if name == "" {
		return fmt.Errorf("resource %q: vault name is empty", r)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '*') {
			return fmt.Errorf("resource %q: vault name may contain only lowercase letters, digits, '-' and '*', found %q", r, c)
		}
	}
	if !hasKey {
		return nil
	}
	key, ok = strings.CutPrefix(key, "archives/")
	if !ok {
		return fmt.Errorf(`resource %q: after the vault name comes "/archives/KEY"`, r)
	}
	if key == "" {
		return fmt.Errorf(`resource %q: archive key is empty (use "archives/*" for every archive)`, r)
	}
	if strings.IndexByte(key, 0) >= 0 {
		return fmt.Errorf("resource %q: archive key must not contain NUL", r)
	}
	return nil
}

// checkShape reads the JSON tokens before decoding, to refuse with a precise
// place what encoding/json would quietly accept or vaguely refuse: a key
// given twice (which one wins?), a key in other case than documented
// ("Effect"), a value of the wrong kind, data after the document.
func checkShape(doc []byte) error {
	if len(bytes.TrimSpace(doc)) == 0 {
		return invalid("document is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	t := tokens{dec}
	err := t.object("document", documentKeys, func(_, where string) error {
		return t.list(where, func(where string) error {
			return t.object(where, statementKeys, func(key, where string) error {
				switch key {
				case "sid", "effect", "condition":
					return t.str(where)
				}
				return t.list(where, t.str)
			})
		})
	})
	if err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("document has data after its end")
	}
	return nil
}

// tokens reads the fixed shape of a policy document.
type tokens struct{ dec *json.Decoder }

func (t tokens) next() (json.Token, error) {
	tok, err := t.dec.Token()
	if err == io.EOF {
		return nil, invalid("document is not valid JSON: unexpected end")
	}
	if err != nil {
		return nil, jsonError(err)
	}
	return tok, nil
}

// object reads an object whose keys must be in known, calling value to read
// the value of each.
func (t tokens) object(where string, known map[string]bool, value func(key, where string) error) error {
	tok, err := t.next()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return wrongKind(where, "an object", tok)
	}
	seen := map[string]bool{}
	for {
		tok, err := t.next()
		if err != nil || tok == json.Delim('}') {
			return err
		}
		key, _ := tok.(string) // json.Decoder.Token yields only strings here
		if !known[key] {
			return invalid("%s: unknown field %q", where, key)
		}
		if seen[key] {
			return invalid("%s: field %q appears twice", where, key)
		}
		seen[key] = true
		sub := where + "." + key
		if where == "document" {
			sub = key
		}
		if err := value(key, sub); err != nil {
			return err
		}
	}
}

// list reads a list, calling elem to read each element.
func (t tokens) list(where string, elem func(where string) error) error {
	tok, err := t.next()
	if err != nil {
		return err
	}
	if tok != json.Delim('[') {
		return wrongKind(where, "a list", tok)
	}
	for i := 0; t.dec.More(); i++ {
		if err := elem(fmt.Sprintf("%s[%d]", where, i)); err != nil {
			return err
		}
	}
	_, err = t.next() // ']'
	return err
}

func (t tokens) str(where string) error {
	tok, err := t.next()
	if err != nil {
		return err
	}
	if _, ok := tok.(string); !ok {
		return wrongKind(where, "a string", tok)
	}
	return nil
}

func wrongKind(where, want string, tok json.Token) error {
	got := "null"
	switch v := tok.(type) {
	case json.Delim:
		got = map[json.Delim]string{'{': "an object", '[': "a list"}[v]
	case string:
		got = "a string"
	case json.Number:
		got = "a number"
	case bool:
		got = "a bool"
	}
	return invalid("%s must be %s, not %s", where, want, got)
}

// jsonError turns a decoding error into an InvalidArgument that says where.
func jsonError(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return invalid("document is not valid JSON at byte %d: %v", syn.Offset, err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return invalid("document is not valid JSON: unexpected end")
	}
	return invalid("document: %v", strings.TrimPrefix(err.Error(), "json: "))
}
