package manifest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/theater-go/theater/supervisor"
)

// Tree is a supervision tree as a TOML file declares it: one supervisor,
// with its strategy, intensity and backoff, and its children, each an
// actor or a nested supervisor. The file's top level is the root
// supervisor; a nested one is a child's [children.supervisor] table.
//
// Like [Manifest], it is plain data with toml and json tags.
type Tree struct {
	// Name names the supervisor in its events; empty means the child id
	// of a nested supervisor, and "root" for the top level.
	Name      string              `toml:"name" json:"name,omitempty"`
	Strategy  supervisor.Strategy `toml:"strategy" json:"strategy,omitempty"`
	Intensity int                 `toml:"intensity" json:"intensity,omitempty"`
	Period    Duration            `toml:"period" json:"period,omitempty"`
	Backoff   *supervisor.Backoff `toml:"backoff" json:"backoff,omitempty"`
	Children  []TreeChild         `toml:"children" json:"children,omitempty"`
}

// TreeChild is one child of a [Tree]: exactly one of Manifest (the path
// of an actor manifest file, relative to the tree file), Actor (an
// inline manifest) and Supervisor (a nested tree).
//
// An inline manifest's name defaults to the child's id. Restart and
// StartFrom left empty are taken from the actor's manifest
// ([supervision]); the tree's value wins when both are set, since the
// tree is where the operator shapes supervision. A nested supervisor's
// defaults are package supervisor's (permanent, last).
type TreeChild struct {
	// ID names the child among its siblings; for an actor it is also the
	// actor's id, so it follows the rules of a manifest's name.
	ID         string               `toml:"id" json:"id"`
	Restart    supervisor.Restart   `toml:"restart" json:"restart,omitempty"`
	Shutdown   Duration             `toml:"shutdown" json:"shutdown,omitempty"`
	StartFrom  supervisor.StartFrom `toml:"start_from" json:"start_from,omitempty"`
	Manifest   string               `toml:"manifest" json:"manifest,omitempty"`
	Actor      *Manifest            `toml:"actor" json:"actor,omitempty"`
	Supervisor *Tree                `toml:"supervisor" json:"supervisor,omitempty"`
}

// ParseTree decodes and validates a tree file; name is the file name
// used in errors, which are *[Error]s wrapping [ErrInvalid] with the
// position and the key ("children[1].supervisor.strategy"). Inline
// manifests get their defaults; children that name a manifest file keep
// the path as written and, until [LoadTree] reads it, empty restart
// fields. Unknown keys are errors, as in a manifest.
func ParseTree(name string, data []byte) (*Tree, error) {
	var t Tree
	doc, err := decode(name, stripBOM(data), &t)
	if err != nil {
		return nil, err
	}
	if t.Name == "" {
		t.Name = "root"
	}
	if e := t.check(""); e != nil {
		return nil, doc.locate(e, name)
	}
	return &t, nil
}

// LoadTree reads and parses the tree file at path, resolves the paths in
// it against the file's directory (manifest files, and the module and
// WIT of inline manifests), loads every manifest file it names into the
// child's Actor, and fills each actor child's empty Restart and
// StartFrom from its manifest's [supervision]. The result is complete:
// [Tree.Build] needs no files but the modules.
func LoadTree(path string) (*Tree, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	t, err := ParseTree(path, data)
	if err != nil {
		return nil, err
	}
	if err := t.load(filepath.Dir(path)); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Tree) load(dir string) error {
	for i := range t.Children {
		c := &t.Children[i]
		switch {
		case c.Supervisor != nil:
			if err := c.Supervisor.load(dir); err != nil {
				return err
			}
			continue
		case c.Manifest != "":
			c.Manifest = resolve(dir, c.Manifest)
			m, err := Load(c.Manifest)
			if err != nil {
				return err
			}
			c.Actor = m
		default:
			if _, ok := c.Actor.ModuleDigest(); !ok {
				c.Actor.Module = resolve(dir, c.Actor.Module)
			}
			if c.Actor.WIT != "" {
				c.Actor.WIT = resolve(dir, c.Actor.WIT)
			}
		}
		if c.Restart == "" {
			c.Restart = c.Actor.Supervision.Restart
		}
		if c.StartFrom == "" {
			c.StartFrom = c.Actor.Supervision.StartFrom
		}
	}
	return nil
}

// check validates a tree under the key prefix at ("" for the top level,
// "children[0].supervisor." for a nested one) and applies inline
// manifests' defaults.
func (t *Tree) check(at string) *Error {
	if e := checkSupervisor(at, t.Strategy, t.Intensity, t.Period, t.Backoff); e != nil {
		return e
	}
	seen := map[string]bool{}
	for i := range t.Children {
		c := &t.Children[i]
		key := fmt.Sprintf("%schildren[%d].", at, i)
		if e := c.check(key); e != nil {
			return e
		}
		if seen[c.ID] {
			return fieldErr(key+"id", "duplicate id %q", c.ID)
		}
		seen[c.ID] = true
	}
	return nil
}

// checkSupervisor checks the fields of a supervisor (in a tree or a
// supervisor capability) under the key prefix at.
func checkSupervisor(at string, strategy supervisor.Strategy, intensity int, period Duration, backoff *supervisor.Backoff) *Error {
	switch strategy {
	case "", supervisor.OneForOne, supervisor.OneForAll, supervisor.RestForOne:
	default:
		return fieldErr(at+"strategy", "unknown strategy %q (want one_for_one, one_for_all or rest_for_one)", strategy)
	}
	switch {
	case intensity < 0:
		return fieldErr(at+"intensity", "%d is negative", intensity)
	case period < 0 || (period == 0 && intensity != 0):
		return fieldErr(at+"period", "%v is not positive", time.Duration(period))
	}
	if backoff != nil {
		// supervisor.Validate words the rule; its message starts with the
		// field ("initial: ...").
		if _, err := supervisor.Validate(supervisor.Spec{Backoff: backoff}); err != nil {
			msg := strings.TrimPrefix(err.Error(), supervisor.ErrInvalidSpec.Error()+": backoff: ")
			field, msg, _ := strings.Cut(msg, ": ")
			return fieldErr(at+"backoff."+field, "%s", msg)
		}
	}
	return nil
}

func (c *TreeChild) check(at string) *Error {
	if c.ID == "" {
		return fieldErr(at+"id", "required")
	}
	n := 0
	for _, set := range []bool{c.Manifest != "", c.Actor != nil, c.Supervisor != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fieldErr(strings.TrimSuffix(at, "."), "set exactly one of manifest, actor and supervisor")
	}
	if c.Supervisor == nil && !validName(c.ID) {
		return fieldErr(at+"id", "invalid actor id %q: use 1 to %d letters, digits, '-' and '_', starting with a letter or digit", c.ID, maxNameLen)
	}
	switch c.Restart {
	case "", supervisor.Permanent, supervisor.Transient, supervisor.Temporary:
	default:
		return fieldErr(at+"restart", "unknown restart type %q (want permanent, transient or temporary)", c.Restart)
	}
	switch c.StartFrom {
	case "", supervisor.StartInitial, supervisor.StartLast:
	default:
		return fieldErr(at+"start_from", "unknown state %q (want initial or last)", c.StartFrom)
	}
	if c.Shutdown < 0 {
		return fieldErr(at+"shutdown", "%v is negative", time.Duration(c.Shutdown))
	}
	switch {
	case c.Actor != nil:
		if c.Actor.Name == "" {
			c.Actor.Name = c.ID
		}
		c.Actor = c.Actor.WithDefaults()
		if e := c.Actor.check(); e != nil {
			e.Key = at + "actor." + e.Key
			return e
		}
	case c.Supervisor != nil:
		if c.Supervisor.Name == "" {
			c.Supervisor.Name = c.ID
		}
		return c.Supervisor.check(at + "supervisor.")
	}
	return nil
}

// Build makes the supervisor a loaded tree declares. actor supplies the
// handle of each actor child (the node's adapter, which spawns the
// actor from its manifest under the child's id); nested supervisors are
// built the same way, with the same opts. Build starts nothing.
func (t *Tree) Build(actor func(id string, m *Manifest) (supervisor.Child, error), opts ...supervisor.Option) (*supervisor.Supervisor, error) {
	spec := supervisor.Spec{Name: t.Name, Strategy: t.Strategy, Intensity: t.Intensity, Period: t.Period, Backoff: t.Backoff}
	for _, c := range t.Children {
		cs := supervisor.ChildSpec{ID: c.ID, Restart: c.Restart, Shutdown: c.Shutdown, StartFrom: c.StartFrom}
		var err error
		switch {
		case c.Supervisor != nil:
			cs.Child, err = c.Supervisor.Build(actor, opts...)
		case c.Actor != nil:
			cs.Child, err = actor(c.ID, c.Actor)
		default:
			err = fmt.Errorf("%w: child %q: manifest %s not loaded (use LoadTree)", ErrInvalid, c.ID, c.Manifest)
		}
		if err != nil {
			return nil, fmt.Errorf("manifest: tree %q: child %q: %w", t.Name, c.ID, err)
		}
		spec.Children = append(spec.Children, cs)
	}
	return supervisor.New(spec, opts...)
}

// ChildSpec is how an actor that is not in a tree is supervised: as a
// child with its manifest's [supervision] fields under the node's root
// supervisor.
func (m *Manifest) ChildSpec(id string, child supervisor.Child) supervisor.ChildSpec {
	d := m.WithDefaults()
	return supervisor.ChildSpec{ID: id, Restart: d.Supervision.Restart, StartFrom: d.Supervision.StartFrom, Shutdown: d.Supervision.Shutdown, Child: child}
}
