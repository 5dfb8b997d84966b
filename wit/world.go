package wit

import (
	"strings"

	"github.com/theater-go/theater/wit/internal/syntax"
)

// localWorld returns the world of this package named by path.
func (p *pkgState) localWorld(path syntax.UsePath) (*World, error) {
	s := p.worlds[path.Name.Name]
	if s == nil {
		return nil, resolveErr(path.Name.Pos, "world %q not found in package %s", path.Name.Name, p.pkg.Name)
	}
	if err := p.ensureWorld(s); err != nil {
		return nil, err
	}
	return s.world, nil
}

func (p *pkgState) ensureWorld(s *worldState) error {
	r := p.r
	switch s.state {
	case resolved:
		return nil
	case resolving:
		return resolveErr(s.decl.Name.Pos, "world %q includes itself (%s)", s.world.Name,
			cyclePath(r.worlds, s, func(t *worldState) string { return t.world.Name }))
	}
	s.state = resolving
	r.worlds = append(r.worlds, s)
	err := s.resolve()
	r.worlds = r.worlds[:len(r.worlds)-1]
	s.state = resolved
	return err
}

// worldBuilder collects the imports and exports of a world, each in its
// own case-insensitive namespace.
type worldBuilder struct {
	w       *World
	imports map[string]*WorldItem
	exports map[string]*WorldItem
}

func (b *worldBuilder) add(export bool, it *WorldItem) error {
	list, ns, what := &b.w.Imports, b.imports, "import"
	if export {
		list, ns, what = &b.w.Exports, b.exports, "export"
	}
	key := strings.ToLower(it.Key())
	if old := ns[key]; old != nil {
		return resolveErr(it.Pos, "%s %q is already defined at %s", what, old.Key(), old.Pos)
	}
	ns[key] = it
	*list = append(*list, it)
	return nil
}

func (s *worldState) resolve() error {
	p := s.scope.pkg
	w := s.world
	var err error
	if w.Stability, err = p.stability(s.decl.Gate); err != nil {
		return err
	}
	b := &worldBuilder{w: w, imports: map[string]*WorldItem{}, exports: map[string]*WorldItem{}}
	ts := s.scope.newTypeScope(w)
	// Types first, as imports and exports may refer to them in any order.
	types := map[syntax.WorldItem][]*TypeDef{}
	for _, it := range s.decl.Items {
		switch it := it.(type) {
		case *syntax.Use:
			if types[it], err = ts.use(it); err != nil {
				return err
			}
		case *syntax.TypeDecl:
			def, err := ts.declare(it)
			if err != nil {
				return err
			}
			types[it] = []*TypeDef{def}
		}
	}
	if err := ts.resolveAll(); err != nil {
		return err
	}
	for _, it := range s.decl.Items {
		switch it := it.(type) {
		case *syntax.Use, *syntax.TypeDecl:
			for _, def := range types[it] {
				if err := b.add(false, &WorldItem{Name: def.Name, Type: def, Docs: def.Docs, Stability: def.Stability, Pos: def.Pos}); err != nil {
					return err
				}
			}
			if td, ok := it.(*syntax.TypeDecl); ok {
				fns, err := ts.members(td)
				if err != nil {
					return err
				}
				for _, f := range fns {
					item := &WorldItem{Name: f.MangledName(), Function: f, Docs: f.Docs, Stability: f.Stability, Pos: f.Pos}
					if err := b.add(false, item); err != nil {
						return err
					}
				}
			}
		case *syntax.Import:
			if err := s.extern(b, ts, false, &it.Extern); err != nil {
				return err
			}
		case *syntax.Export:
			if err := s.extern(b, ts, true, &it.Extern); err != nil {
				return err
			}
		case *syntax.Include:
			if err := s.include(b, it); err != nil {
				return err
			}
		}
	}
	elaborate(w)
	return nil
}

// extern resolves one import or export.
func (s *worldState) extern(b *worldBuilder, ts *typeScope, export bool, e *syntax.Extern) error {
	p := s.scope.pkg
	stab, err := p.stability(e.Gate)
	if err != nil {
		return err
	}
	it := &WorldItem{Docs: e.Docs, Stability: stab, ExternalID: e.ExternalID, Pos: e.Path.Pos}
	if e.Name != nil {
		it.Name, it.Pos = e.Name.Name, e.Name.Pos
	} else if e.Kind != syntax.ExternPath {
		return resolveErr(e.Pos, "import or export needs a name")
	}
	switch e.Kind {
	case syntax.ExternPath:
		it.Interface, err = s.scope.lookupIface(e.Path)
	case syntax.ExternFunc:
		it.Function, err = ts.function(it.Name, Freestanding, nil, &e.Func, it.Pos)
		if err == nil {
			it.Function.Docs, it.Function.Stability, it.Function.ExternalID = e.Docs, stab, e.ExternalID
		}
	case syntax.ExternInterface:
		it.Interface = &Interface{Package: p.pkg, Pos: it.Pos}
		err = s.scope.interfaceBody(it.Interface, e.Items)
	}
	if err != nil {
		return err
	}
	return b.add(export, it)
}

// include merges the imports and exports of another world, renaming
// plain names as "with" says. Interface names that both worlds have are
// merged; plain names must not clash.
func (s *worldState) include(b *worldBuilder, inc *syntax.Include) error {
	p := s.scope.pkg
	if _, err := p.stability(inc.Gate); err != nil {
		return err
	}
	var src *World
	var err error
	if inc.Path.Namespace == "" {
		src, err = p.localWorld(inc.Path)
	} else {
		var t *pkgState
		if t, err = p.target(inc.Path); err == nil {
			src, err = t.localWorld(inc.Path)
		}
	}
	if err != nil {
		return err
	}
	with := map[string]*syntax.IncludeName{}
	for i := range inc.With {
		n := &inc.With[i]
		key := strings.ToLower(n.Name.Name)
		if with[key] != nil {
			return resolveErr(n.Name.Pos, "%q is renamed twice", n.Name.Name)
		}
		with[key] = n
	}
	used := map[string]bool{}
	merge := func(export bool, items []*WorldItem) error {
		what, ns := "import", b.imports
		if export {
			what, ns = "export", b.exports
		}
		for _, it := range items {
			c := *it
			if n := with[strings.ToLower(it.Name)]; it.Name != "" && n != nil {
				used[strings.ToLower(it.Name)] = true
				if it.Type != nil {
					return resolveErr(n.Name.Pos, "type %q cannot be renamed", it.Name)
				}
				c.Name = n.As.Name
				if it.Function != nil {
					f := *it.Function
					f.Name = c.Name
					c.Function = &f
				}
			}
			old := ns[strings.ToLower(c.Key())]
			switch {
			case old == nil:
			case c.Name == "" && old.Name == "" && old.Interface == c.Interface:
				continue // the same interface import: de-duplicated
			default:
				return resolveErr(inc.Path.Pos, "%s %q of world %s conflicts with %s %q at %s; rename it with \"with\"",
					what, c.Key(), src.QualifiedName(), what, old.Key(), old.Pos)
			}
			if err := b.add(export, &c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := merge(false, src.Imports); err != nil {
		return err
	}
	if err := merge(true, src.Exports); err != nil {
		return err
	}
	for _, n := range inc.With {
		if !used[strings.ToLower(n.Name.Name)] {
			return resolveErr(n.Name.Pos, "world %s has no import or export named %q", src.QualifiedName(), n.Name.Name)
		}
	}
	return nil
}

// usedInterfaces returns the interfaces other than self whose types the
// given types bring in with use, in order.
func usedInterfaces(types []*TypeDef, self any) []*Interface {
	var out []*Interface
	seen := map[*Interface]bool{}
	for _, t := range types {
		a, ok := t.Kind.(*Alias)
		if !ok {
			continue
		}
		d, ok := a.Target.(*TypeDef)
		if !ok {
			continue
		}
		if o, ok := d.Owner.(*Interface); ok && o != self && !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	return out
}

// elaborate adds to the imports every interface that an imported or
// exported interface (or a world type) uses, directly or transitively,
// placing each one before its first user. An interface that is exported
// stays an export.
func elaborate(w *World) {
	explicit := map[string]*WorldItem{}
	for _, it := range w.Imports {
		if it.Interface != nil && it.Name == "" {
			explicit[strings.ToLower(it.Key())] = it
		}
	}
	exported := map[string]bool{}
	for _, it := range w.Exports {
		if it.Interface != nil && it.Name == "" {
			exported[strings.ToLower(it.Key())] = true
		}
	}
	var out []*WorldItem
	seen := map[string]bool{}
	var add func(iface *Interface)
	add = func(iface *Interface) {
		key := strings.ToLower(iface.QualifiedName())
		if seen[key] {
			return
		}
		seen[key] = true
		for _, d := range usedInterfaces(iface.Types, iface) {
			add(d)
		}
		if it := explicit[key]; it != nil {
			out = append(out, it)
		} else {
			out = append(out, &WorldItem{Interface: iface, Pos: iface.Pos})
		}
	}
	for _, it := range w.Imports {
		switch {
		case it.Interface != nil && it.Name == "":
			add(it.Interface)
			continue
		case it.Interface != nil:
			for _, d := range usedInterfaces(it.Interface.Types, it.Interface) {
				add(d)
			}
		case it.Type != nil:
			for _, d := range usedInterfaces([]*TypeDef{it.Type}, w) {
				add(d)
			}
		}
		out = append(out, it)
	}
	for _, it := range w.Exports {
		if it.Interface == nil {
			continue
		}
		for _, d := range usedInterfaces(it.Interface.Types, it.Interface) {
			if !exported[strings.ToLower(d.QualifiedName())] {
				add(d)
			}
		}
	}
	w.Imports = out
}
