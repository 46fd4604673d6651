package policy

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"
)

// ConditionCostLimit caps the work one condition may do in one evaluation,
// in CEL cost units (about one per operation, per list element visited, per
// ten bytes of string compared). A condition that reaches it stops with an
// error and fails closed. Real conditions cost tens of units.
const ConditionCostLimit = 10_000

// conditionVariables are the variables a condition may use, with their types.
var conditionVariables = []struct {
	name string
	typ  *cel.Type
}{
	{"request.principal", cel.StringType},
	{"request.action", cel.StringType},
	{"request.secure_transport", cel.BoolType},
	{"request.mfa_present", cel.BoolType},
	{"request.encryption", cel.StringType},
	{"request.time", cel.TimestampType},
	{"request.access_point", cel.StringType},
	{"request.source_ip", cel.StringType},
	{"archive.key", cel.StringType},
	{"archive.size_bytes", cel.IntType},
	{"archive.age_days", cel.IntType},
	{"archive.retention_mode", cel.StringType},
	{"archive.retain_until", cel.TimestampType},
	{"archive.legal_hold", cel.BoolType},
	{"vault.name", cel.StringType},
}

// ConditionVariables returns the variables a condition may use, each with
// its CEL type: "archive.age_days" → "int".
func ConditionVariables() map[string]string {
	m := make(map[string]string, len(conditionVariables))
	for _, v := range conditionVariables {
		m[v.name] = v.typ.String()
	}
	return m
}

// conditionEnv is the one CEL environment every condition is checked in.
// Each variable is declared under its dotted name ("archive.age_days"): CEL
// resolves a select chain against declared qualified names before it looks
// for a value named "archive", so every field has its own static type.
var conditionEnv = sync.OnceValues(func() (*cel.Env, error) {
	opts := []cel.EnvOption{
		ext.Network(),
		cel.ASTValidators(
			cel.ValidateDurationLiterals(),
			cel.ValidateTimestampLiterals(),
			cel.ValidateRegexLiterals(),
		),
	}
	for _, v := range conditionVariables {
		opts = append(opts, cel.Variable(v.name, v.typ))
	}
	return cel.NewEnv(opts...)
})

// A condition is a compiled CEL program and what it reads.
type condition struct {
	source string
	prg    cel.Program
	// readsArchive is true when the expression names an archive.* variable.
	readsArchive bool
	// alwaysTrue is true for the literal `true`.
	alwaysTrue bool
}

// compileCondition parses, type-checks and plans src. Errors are phrased to
// follow "condition ": "at 1:18: found no matching overload…".
func compileCondition(src string) (*condition, error) {
	env, err := conditionEnv()
	if err != nil {
		return nil, fmt.Errorf("building the condition environment: %w", err)
	}
	parsed, iss := env.Parse(src)
	if iss.Err() != nil {
		return nil, issuesError(iss)
	}
	checked, iss := env.Check(parsed)
	if iss.Err() != nil {
		if err := unknownVariable(parsed); err != nil {
			return nil, err
		}
		return nil, issuesError(iss)
	}
	if out := checked.OutputType(); !out.IsExactType(cel.BoolType) {
		return nil, fmt.Errorf("must be a bool expression, this one is %s", out)
	}
	prg, err := env.Program(checked,
		cel.CostLimit(ConditionCostLimit),
		cel.EvalOptions(cel.OptOptimize),
	)
	if err != nil {
		return nil, fmt.Errorf("cannot be planned: %v", err)
	}
	c := &condition{source: src, prg: prg}
	native := checked.NativeRep()
	for _, ref := range native.ReferenceMap() {
		if strings.HasPrefix(ref.Name, "archive.") {
			c.readsArchive = true
		}
	}
	if e := native.Expr(); e.Kind() == celast.LiteralKind && e.AsLiteral() == types.True {
		c.alwaysTrue = true
	}
	return c, nil
}

// issuesError renders the first CEL issue as "at line:col: message".
func issuesError(iss *cel.Issues) error {
	errs := iss.Errors()
	if len(errs) == 0 {
		return fmt.Errorf(": %v", iss.Err())
	}
	e := errs[0]
	msg := fmt.Sprintf("at %s: %s", position(e.Location), e.Message)
	if n := len(errs) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more)", n)
	}
	return errors.New(msg)
}

// position prints a location as CEL does: 1-based line and column.
func position(l common.Location) string {
	if l == nil || l.Line() < 1 {
		return "?:?"
	}
	return fmt.Sprintf("%d:%d", l.Line(), l.Column()+1)
}

// unknownVariable looks for request.x, archive.x or vault.x where x is not a
// declared field, to say so plainly rather than as CEL's "undeclared
// reference to 'request'".
func unknownVariable(parsed *cel.Ast) error {
	native := parsed.NativeRep()
	declared := make(map[string]bool, len(conditionVariables))
	for _, v := range conditionVariables {
		declared[v.name] = true
	}
	var found error
	celast.PreOrderVisit(native.Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		if found != nil || e.Kind() != celast.SelectKind {
			return
		}
		sel := e.AsSelect()
		op := sel.Operand()
		if op.Kind() != celast.IdentKind {
			return
		}
		root := op.AsIdent()
		if root != "request" && root != "archive" && root != "vault" {
			return
		}
		name := root + "." + sel.FieldName()
		if declared[name] {
			return
		}
		var known []string
		for _, v := range conditionVariables {
			if strings.HasPrefix(v.name, root+".") {
				known = append(known, strings.TrimPrefix(v.name, root+"."))
			}
		}
		sort.Strings(known)
		loc := native.SourceInfo().GetStartLocation(op.ID())
		found = fmt.Errorf("at %s: unknown variable %s (%s has %s)", position(loc), name, root, strings.Join(known, ", "))
	}))
	return found
}

// outcome is what evaluating a condition came to.
type outcome int

const (
	condFalse outcome = iota
	condTrue
	// condError: the evaluation failed (cost limit, a runtime error, archive
	// facts missing for an archive request). The statement fails closed.
	condError
	// condNotApplicable: the condition reads archive facts and the request
	// is not about an archive. The statement does not apply.
	condNotApplicable
)

// eval runs the condition against the request. in is built on first use
// and shared by the conditions of one Eval.
func (c *condition) eval(in **facts, r *Request) outcome {
	if c.alwaysTrue {
		return condTrue
	}
	if c.readsArchive && r.Archive == nil && !isArchiveResource(r.Resource) {
		return condNotApplicable
	}
	if *in == nil {
		*in = newFacts(r)
	}
	out, _, err := c.prg.Eval(*in)
	if err != nil {
		return condError
	}
	if b, ok := out.(types.Bool); ok && bool(b) {
		return condTrue
	} else if !ok {
		return condError
	}
	return condFalse
}

// facts is the CEL activation over one request: a switch, no map.
type facts struct {
	r     Request
	vault string
	act   string
}

func newFacts(r *Request) *facts {
	f := &facts{r: *r, vault: r.Vault, act: r.Action}
	if f.vault == "" {
		f.vault = vaultOf(r.Resource)
	}
	if i := indexOfAction(r.Action); i >= 0 {
		f.act = actions[i]
	}
	return f
}

var _ interpreter.Activation = (*facts)(nil)

func (f *facts) Parent() interpreter.Activation { return nil }

func (f *facts) ResolveName(name string) (any, bool) {
	var v ref.Val
	switch name {
	case "request.principal":
		v = types.String(f.r.Principal)
	case "request.action":
		v = types.String(f.act)
	case "request.secure_transport":
		v = types.Bool(f.r.SecureTransport)
	case "request.mfa_present":
		v = types.Bool(f.r.MFAPresent)
	case "request.encryption":
		v = types.String(f.r.Encryption)
	case "request.time":
		v = types.Timestamp{Time: f.r.Time}
	case "request.access_point":
		v = types.String(f.r.AccessPoint)
	case "request.source_ip":
		v = types.String(f.r.SourceIP)
	case "vault.name":
		v = types.String(f.vault)
	default:
		return f.archive(name)
	}
	return v, true
}

func (f *facts) archive(name string) (any, bool) {
	a := f.r.Archive
	if a == nil {
		// CEL reports "no such attribute", which fails closed.
		return nil, false
	}
	var v ref.Val
	switch name {
	case "archive.key":
		v = types.String(a.Key)
	case "archive.size_bytes":
		v = types.Int(a.SizeBytes)
	case "archive.age_days":
		v = types.Int(a.AgeDays)
	case "archive.retention_mode":
		v = types.String(a.RetentionMode)
	case "archive.retain_until":
		v = types.Timestamp{Time: a.RetainUntil}
	case "archive.legal_hold":
		v = types.Bool(a.LegalHold)
	default:
		return nil, false
	}
	return v, true
}
