package wit

import (
	"strings"

	"github.com/theater-go/theater/wit/internal/syntax"
)

// Resolution states of interfaces, worlds and types, which are resolved
// on first reference so that source order does not matter and cycles
// show up as a reference to something still in progress.
const (
	unresolved uint8 = iota
	resolving
	resolved
)

// resolver turns the units of a loader into a Model.
type resolver struct {
	l      *loader
	pkgs   map[*unit]*pkgState
	ifaces []*ifaceState // interfaces being resolved, innermost last
	worlds []*worldState // worlds being resolved, innermost last
}

// resolve orders the units reachable from root so that dependencies come
// first, then resolves them in that order.
func (l *loader) resolve(root []*unit) (*Model, error) {
	r := &resolver{l: l, pkgs: map[*unit]*pkgState{}}
	var order []*unit
	state := map[*unit]uint8{}
	var stack []*unit
	var visit func(u *unit) error
	visit = func(u *unit) error {
		state[u] = resolving
		stack = append(stack, u)
		err := forEachPath(u.scopes, func(p syntax.UsePath) error {
			if p.Namespace == "" {
				return nil
			}
			dep, err := l.find(p)
			if err != nil || dep == u {
				return err
			}
			switch state[dep] {
			case resolving:
				return resolveErr(p.Pos, "package %s depends on itself (%s)", dep.name, cyclePath(stack, dep, func(u *unit) string { return u.name.String() }))
			case unresolved:
				return visit(dep)
			}
			return nil
		})
		stack = stack[:len(stack)-1]
		state[u] = resolved
		order = append(order, u)
		return err
	}
	for _, u := range root {
		if state[u] == unresolved {
			if err := visit(u); err != nil {
				return nil, err
			}
		}
	}
	m := &Model{}
	for _, u := range order {
		p, err := r.resolvePackage(u)
		if err != nil {
			return nil, err
		}
		m.Packages = append(m.Packages, p.pkg)
	}
	m.Root = r.pkgs[root[len(root)-1]].pkg
	return m, nil
}

// cyclePath spells a cycle that closes at back: "a -> b -> a".
func cyclePath[T comparable](stack []T, back T, name func(T) string) string {
	var parts []string
	for i, s := range stack {
		if s == back {
			for _, t := range stack[i:] {
				parts = append(parts, name(t))
			}
			break
		}
	}
	return strings.Join(append(parts, name(back)), " -> ")
}

// find returns the unit a qualified path refers to. Without a version the
// path matches the only version loaded.
func (l *loader) find(p syntax.UsePath) (*unit, error) {
	name := PackageName{Namespace: p.Namespace, Name: p.Package, Version: p.Version}
	if u := l.units[name.String()]; u != nil {
		return u, nil
	}
	var versions []string
	var match *unit
	for _, u := range l.order {
		if u.name.Namespace == name.Namespace && u.name.Name == name.Name {
			versions = append(versions, u.name.Version)
			match = u
		}
	}
	switch {
	case p.Version == "" && len(versions) == 1:
		return match, nil
	case p.Version == "" && len(versions) > 1:
		return nil, resolveErr(p.Pos, "version conflict: package %s is loaded as %s; name a version", name, strings.Join(versions, " and "))
	}
	return nil, resolveErr(p.Pos, "package %s not found", name)
}

// forEachPath calls fn with every interface or world path in the items.
func forEachPath(scopes [][]syntax.Item, fn func(syntax.UsePath) error) error {
	var ifaceItems func(items []syntax.InterfaceItem) error
	ifaceItems = func(items []syntax.InterfaceItem) error {
		for _, it := range items {
			if u, ok := it.(*syntax.Use); ok {
				if err := fn(u.Path); err != nil {
					return err
				}
			}
		}
		return nil
	}
	extern := func(e *syntax.Extern) error {
		switch e.Kind {
		case syntax.ExternPath:
			return fn(e.Path)
		case syntax.ExternInterface:
			return ifaceItems(e.Items)
		}
		return nil
	}
	for _, items := range scopes {
		for _, it := range items {
			var err error
			switch it := it.(type) {
			case *syntax.TopUse:
				err = fn(it.Path)
			case *syntax.Interface:
				err = ifaceItems(it.Items)
			case *syntax.World:
				for _, wi := range it.Items {
					switch wi := wi.(type) {
					case *syntax.Use:
						err = fn(wi.Path)
					case *syntax.Include:
						err = fn(wi.Path)
					case *syntax.Import:
						err = extern(&wi.Extern)
					case *syntax.Export:
						err = extern(&wi.Extern)
					}
					if err != nil {
						return err
					}
				}
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// entry is a defined name, kept to report a later duplicate.
type entry struct {
	desc string // `type "foo"`
	pos  Pos
}

// define adds name to a case-insensitive namespace: WIT names must be
// unique regardless of case.
func define(ns map[string]entry, desc, name string, pos Pos) error {
	key := strings.ToLower(name)
	if old, ok := ns[key]; ok {
		return resolveErr(pos, "%s is already defined at %s", old.desc, old.pos)
	}
	ns[key] = entry{desc: desc, pos: pos}
	return nil
}

type pkgState struct {
	r      *resolver
	pkg    *Package
	names  map[string]entry // interfaces and worlds share one namespace
	ifaces map[string]*ifaceState
	worlds map[string]*worldState
}

// fileScope holds the top-level use aliases of one file or nested block.
type fileScope struct {
	pkg  *pkgState
	uses map[string]*syntax.TopUse
}

type ifaceState struct {
	decl  *syntax.Interface
	scope *fileScope
	iface *Interface
	state uint8
}

type worldState struct {
	decl  *syntax.World
	scope *fileScope
	world *World
	state uint8
}

func (r *resolver) resolvePackage(u *unit) (*pkgState, error) {
	p := &pkgState{
		r:      r,
		pkg:    &Package{Name: u.name, Docs: u.decl.Docs, Pos: u.decl.Pos},
		names:  map[string]entry{},
		ifaces: map[string]*ifaceState{},
		worlds: map[string]*worldState{},
	}
	r.pkgs[u] = p
	var ifaces []*ifaceState
	var worlds []*worldState
	for _, items := range u.scopes {
		fs := &fileScope{pkg: p, uses: map[string]*syntax.TopUse{}}
		useNames := map[string]entry{}
		for _, it := range items {
			switch it := it.(type) {
			case *syntax.TopUse:
				id := topUseName(it)
				if err := define(useNames, `interface "`+id.Name+`"`, id.Name, id.Pos); err != nil {
					return nil, err
				}
				fs.uses[id.Name] = it
			case *syntax.Interface:
				if err := define(p.names, `interface "`+it.Name.Name+`"`, it.Name.Name, it.Name.Pos); err != nil {
					return nil, err
				}
				s := &ifaceState{decl: it, scope: fs, iface: &Interface{Name: it.Name.Name, Package: p.pkg, Docs: it.Docs, Pos: it.Name.Pos}}
				p.ifaces[it.Name.Name] = s
				ifaces = append(ifaces, s)
				p.pkg.Interfaces = append(p.pkg.Interfaces, s.iface)
			case *syntax.World:
				if err := define(p.names, `world "`+it.Name.Name+`"`, it.Name.Name, it.Name.Pos); err != nil {
					return nil, err
				}
				s := &worldState{decl: it, scope: fs, world: &World{Name: it.Name.Name, Package: p.pkg, Docs: it.Docs, Pos: it.Name.Pos}}
				p.worlds[it.Name.Name] = s
				worlds = append(worlds, s)
				p.pkg.Worlds = append(p.pkg.Worlds, s.world)
			}
		}
	}
	// A file's use alias may not shadow an item of the package.
	for _, items := range u.scopes {
		for _, it := range items {
			if tu, ok := it.(*syntax.TopUse); ok {
				id := topUseName(tu)
				if old, ok := p.names[strings.ToLower(id.Name)]; ok {
					return nil, resolveErr(id.Pos, "%s is already defined at %s", old.desc, old.pos)
				}
			}
		}
	}
	for _, s := range ifaces {
		if err := p.ensureIface(s); err != nil {
			return nil, err
		}
	}
	for _, s := range worlds {
		if err := p.ensureWorld(s); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// topUseName is the name a top-level use defines: its "as" name or the
// interface name.
func topUseName(u *syntax.TopUse) syntax.Ident {
	if u.As != nil {
		return *u.As
	}
	return u.Path.Name
}

// stability checks a gate: a gated package needs a version, and
// @deprecated needs @since or @unstable beside it. (WIT.md's rules that an
// item using or inside a gated item be compatibly gated are not checked.)
func (p *pkgState) stability(g syntax.Gate) (Stability, error) {
	s := Stability{Since: g.Since, Unstable: g.Unstable, Deprecated: g.Deprecated}
	switch {
	case s.IsZero():
	case p.pkg.Name.Version == "":
		return s, resolveErr(g.Pos, "package %s uses feature gates but has no version", p.pkg.Name)
	case s.Deprecated != "" && s.Since == "" && s.Unstable == "":
		return s, resolveErr(g.Pos, "@deprecated requires @since or @unstable")
	}
	return s, nil
}

// lookupIface resolves a path to an interface: a name of the file's
// top-level uses or of the package, or a qualified name.
func (fs *fileScope) lookupIface(path syntax.UsePath) (*Interface, error) {
	p := fs.pkg
	if path.Namespace == "" {
		if u, ok := fs.uses[path.Name.Name]; ok {
			path = u.Path
			if path.Namespace == "" {
				return p.localIface(path)
			}
		} else {
			return p.localIface(path)
		}
	}
	target, err := p.target(path)
	if err != nil {
		return nil, err
	}
	return target.localIface(path)
}

// target returns the package a qualified path names, which is this
// package or one resolved before it.
func (p *pkgState) target(path syntax.UsePath) (*pkgState, error) {
	u, err := p.r.l.find(path)
	if err != nil {
		return nil, err
	}
	t := p.r.pkgs[u]
	if t == nil {
		// The dependency walk orders every referenced package first.
		return nil, resolveErr(path.Pos, "package %s is not loaded", u.name)
	}
	return t, nil
}

func (p *pkgState) localIface(path syntax.UsePath) (*Interface, error) {
	s := p.ifaces[path.Name.Name]
	if s == nil {
		return nil, resolveErr(path.Name.Pos, "interface %q not found in package %s", path.Name.Name, p.pkg.Name)
	}
	if err := p.ensureIface(s); err != nil {
		return nil, err
	}
	return s.iface, nil
}

func (p *pkgState) ensureIface(s *ifaceState) error {
	r := p.r
	switch s.state {
	case resolved:
		return nil
	case resolving:
		return resolveErr(s.decl.Name.Pos, "interface %q depends on itself (%s)", s.iface.Name,
			cyclePath(r.ifaces, s, func(t *ifaceState) string { return t.iface.Name }))
	}
	s.state = resolving
	r.ifaces = append(r.ifaces, s)
	stab, err := p.stability(s.decl.Gate)
	if err == nil {
		s.iface.Stability = stab
		err = s.scope.interfaceBody(s.iface, s.decl.Items)
	}
	r.ifaces = r.ifaces[:len(r.ifaces)-1]
	s.state = resolved
	return err
}
