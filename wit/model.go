package wit

import (
	"strconv"
	"strings"

	"github.com/theater-go/theater/wit/internal/syntax"
)

// Pos is a position in a WIT source file: file name, 1-based line and column.
type Pos = syntax.Pos

// Stability is the feature gate of an item: at most one of Since and
// Unstable, optionally with Deprecated. The zero value means "not gated".
type Stability struct {
	Since      string // semver from @since(version = ...)
	Unstable   string // feature name from @unstable(feature = ...)
	Deprecated string // semver from @deprecated(version = ...)
}

// IsZero reports whether s carries no gate at all.
func (s Stability) IsZero() bool { return s == Stability{} }

// PackageName identifies a package: namespace, name and optional semver
// version, as in wasi:http@0.2.12. Nested namespaces (a:b:c) keep their
// colons in Namespace.
type PackageName struct {
	Namespace string
	Name      string
	Version   string
}

// String returns the name as written in WIT: ns:name or ns:name@version.
func (n PackageName) String() string {
	s := n.Namespace + ":" + n.Name
	if n.Version != "" {
		s += "@" + n.Version
	}
	return s
}

// Model is a resolved set of WIT packages: the root package (what was
// loaded) and every dependency it pulled in. Everything in it refers to
// everything else by pointer; names have all been resolved.
type Model struct {
	// Packages in dependency order: a package comes after every package
	// it uses. Root is the last one loaded as root.
	Packages []*Package
	Root     *Package
}

// Package is one resolved WIT package.
type Package struct {
	Name       PackageName
	Docs       string
	Interfaces []*Interface // in source order
	Worlds     []*World     // in source order
	Pos        Pos
}

// Interface is a named interface of a package, or an anonymous inline
// interface of a world item (Name is then empty).
type Interface struct {
	Name      string
	Package   *Package
	Docs      string
	Stability Stability
	// Types are the named types the interface defines or brings in with
	// use, in source order.
	Types []*TypeDef
	// Functions are the constructors, methods and static functions of
	// the interface's resources (Resource set), grouped by resource in
	// the order of Types, followed by the freestanding functions; each
	// group is in source order. This is the order printing preserves.
	Functions []*Function
	Pos       Pos
}

// QualifiedName returns ns:pkg/name@version, or just the name when the
// interface has no package.
func (i *Interface) QualifiedName() string { return qualify(i.Package, i.Name) }

func qualify(pkg *Package, name string) string {
	if pkg == nil {
		return name
	}
	p := pkg.Name
	s := p.Namespace + ":" + p.Name + "/" + name
	if p.Version != "" {
		s += "@" + p.Version
	}
	return s
}

// World is a resolved world. Includes have been merged into Imports and
// Exports, and interfaces needed by the types of imported or exported
// interfaces have been added to Imports.
type World struct {
	Name      string
	Package   *Package
	Docs      string
	Stability Stability
	Imports   []*WorldItem
	Exports   []*WorldItem
	Pos       Pos
}

// QualifiedName returns ns:pkg/name@version, or just the name when the
// world has no package.
func (w *World) QualifiedName() string { return qualify(w.Package, w.Name) }

// WorldItem is one import or export of a world: exactly one of Interface,
// Function and Type is set. (Types only ever appear in Imports.)
type WorldItem struct {
	// Name is the plain name of the item (import foo: ...), or empty when
	// an interface is imported or exported by path (import wasi:io/poll;).
	Name      string
	Interface *Interface
	Function  *Function
	Type      *TypeDef
	Docs      string
	Stability Stability
	// ExternalID is the @external-id("...") annotation, if any.
	ExternalID string
	Pos        Pos
}

// Key is the name the item is imported or exported under: Name if set,
// else the interface's qualified name.
func (w *WorldItem) Key() string {
	if w.Name != "" || w.Interface == nil {
		return w.Name
	}
	return w.Interface.QualifiedName()
}

// FunctionKind says whether a function is freestanding or belongs to a
// resource.
type FunctionKind uint8

const (
	Freestanding FunctionKind = iota
	Method                    // first parameter is self: borrow<resource>
	Static
	Constructor // result is own<resource> or result<own<resource>, E>
)

// Function is a resolved function.
type Function struct {
	// Name is the name as written: "read" for a method of resource
	// "stream", "" for a constructor.
	Name     string
	Kind     FunctionKind
	Resource *TypeDef // the resource of a method, static or constructor
	Async    bool
	Params   []Param // for methods, Params[0] is self: borrow<resource>
	Result   Type    // nil when the function returns nothing
	// ExternalID is the @external-id("...") annotation, if any.
	ExternalID string
	Docs       string
	Stability  Stability
	Pos        Pos
}

// MangledName is the component-model name of f: "read",
// "[method]stream.read", "[static]stream.open" or "[constructor]stream".
func (f *Function) MangledName() string {
	switch f.Kind {
	case Method:
		return "[method]" + f.Resource.Name + "." + f.Name
	case Static:
		return "[static]" + f.Resource.Name + "." + f.Name
	case Constructor:
		return "[constructor]" + f.Resource.Name
	}
	return f.Name
}

// Param is a named function parameter.
type Param struct {
	Name string
	Type Type
}

// Type is a WIT type: a [Primitive] or a [*TypeDef].
type Type interface {
	isType()
	// String returns the type as it would be written in WIT: u32,
	// list<string>, or the name of a named type.
	String() string
}

// Primitive is a built-in scalar type.
type Primitive uint8

const (
	Bool Primitive = iota + 1
	U8
	U16
	U32
	U64
	S8
	S16
	S32
	S64
	F32
	F64
	Char
	String
	ErrorContext
)

var primitiveNames = [...]string{
	Bool: "bool", U8: "u8", U16: "u16", U32: "u32", U64: "u64",
	S8: "s8", S16: "s16", S32: "s32", S64: "s64", F32: "f32", F64: "f64",
	Char: "char", String: "string", ErrorContext: "error-context",
}

func (Primitive) isType() {}

func (p Primitive) String() string {
	if int(p) < len(primitiveNames) && primitiveNames[p] != "" {
		return primitiveNames[p]
	}
	return "primitive(" + strconv.Itoa(int(p)) + ")"
}

// TypeDef is a type definition: a named type of an interface or world
// (record, variant, enum, flags, resource, alias or use), or an anonymous
// structural type such as list<u8> (Name is then empty and Owner nil).
type TypeDef struct {
	Name string
	// Owner is the *Interface or *World that defines the type, or nil for
	// anonymous types.
	Owner     any
	Kind      TypeDefKind
	Docs      string
	Stability Stability
	// ExternalID is the @external-id("...") annotation, if any.
	ExternalID string
	Pos        Pos
}

func (*TypeDef) isType() {}

// String returns the name of a named type, or the WIT spelling of an
// anonymous one.
func (t *TypeDef) String() string {
	if t.Name != "" {
		return t.Name
	}
	return kindString(t.Kind)
}

// Underlying follows aliases (type x = y; and use) and returns the first
// type that is not an alias.
func Underlying(t Type) Type {
	for i := 0; i < 1000; i++ { // resolution rejects cycles; the cap is defensive
		d, ok := t.(*TypeDef)
		if !ok {
			return t
		}
		a, ok := d.Kind.(*Alias)
		if !ok {
			return t
		}
		t = a.Target
	}
	return t
}

// TypeDefKind is the structure of a [TypeDef]: one of [*Record],
// [*Variant], [*Enum], [*Flags], [*Resource], [*Handle], [*Option],
// [*Result], [*Tuple], [*List], [*FixedList], [*Map], [*Future],
// [*Stream] or [*Alias].
type TypeDefKind interface{ isKind() }

// Record is a record { field: type, ... }.
type Record struct{ Fields []Field }

// Field is a record field.
type Field struct {
	Name string
	Type Type
	Docs string
}

// Variant is a variant { case, case(type), ... }.
type Variant struct{ Cases []Case }

// Case is a variant case; Type is nil when the case has no payload.
type Case struct {
	Name string
	Type Type
	Docs string
}

// Enum is an enum { case, ... }.
type Enum struct{ Cases []EnumCase }

// EnumCase is one case of an enum.
type EnumCase struct {
	Name string
	Docs string
}

// Flags is a flags { flag, ... }.
type Flags struct{ Flags []Flag }

// Flag is one flag of a flags type.
type Flag struct {
	Name string
	Docs string
}

// Resource is a resource type. Its constructor, methods and static
// functions are in the owning interface's Functions, with Resource set.
type Resource struct{}

// Handle is own<r> (written as just r) or borrow<r>.
type Handle struct {
	Resource *TypeDef // a TypeDef whose Underlying kind is *Resource
	Borrow   bool
}

// Option is option<T>.
type Option struct{ Type Type }

// Result is result<T, E>; OK and Err are nil when absent (result<_, E>,
// result<T>, bare result).
type Result struct{ OK, Err Type }

// Tuple is tuple<T, ...>.
type Tuple struct{ Types []Type }

// List is list<T>.
type List struct{ Elem Type }

// FixedList is list<T, N>.
type FixedList struct {
	Elem Type
	Len  uint32
}

// Map is map<K, V>.
type Map struct{ Key, Value Type }

// Future is future<T>; Elem is nil for a bare future.
type Future struct{ Elem Type }

// Stream is stream<T>; Elem is nil for a bare stream.
type Stream struct{ Elem Type }

// Alias is type name = T, or a name brought in by use (Target is then a
// named TypeDef of another interface).
type Alias struct{ Target Type }

func (*Record) isKind()    {}
func (*Variant) isKind()   {}
func (*Enum) isKind()      {}
func (*Flags) isKind()     {}
func (*Resource) isKind()  {}
func (*Handle) isKind()    {}
func (*Option) isKind()    {}
func (*Result) isKind()    {}
func (*Tuple) isKind()     {}
func (*List) isKind()      {}
func (*FixedList) isKind() {}
func (*Map) isKind()       {}
func (*Future) isKind()    {}
func (*Stream) isKind()    {}
func (*Alias) isKind()     {}

// kindString spells an anonymous type the way WIT writes it.
func kindString(k TypeDefKind) string {
	return spellKind(k, Type.String, func(name string) string { return name })
}

// spellKind spells an anonymous type, using typ for the types inside it
// and name for resource names, so the printer can escape keywords.
func spellKind(k TypeDefKind, typ func(Type) string, name func(string) string) string {
	switch k := k.(type) {
	case *Handle:
		if k.Borrow {
			return "borrow<" + name(k.Resource.Name) + ">"
		}
		return name(k.Resource.Name)
	case *Option:
		return "option<" + typ(k.Type) + ">"
	case *Result:
		switch {
		case k.OK == nil && k.Err == nil:
			return "result"
		case k.Err == nil:
			return "result<" + typ(k.OK) + ">"
		case k.OK == nil:
			return "result<_, " + typ(k.Err) + ">"
		}
		return "result<" + typ(k.OK) + ", " + typ(k.Err) + ">"
	case *Tuple:
		parts := make([]string, len(k.Types))
		for i, t := range k.Types {
			parts[i] = typ(t)
		}
		return "tuple<" + strings.Join(parts, ", ") + ">"
	case *List:
		return "list<" + typ(k.Elem) + ">"
	case *FixedList:
		return "list<" + typ(k.Elem) + ", " + strconv.FormatUint(uint64(k.Len), 10) + ">"
	case *Map:
		return "map<" + typ(k.Key) + ", " + typ(k.Value) + ">"
	case *Future:
		if k.Elem == nil {
			return "future"
		}
		return "future<" + typ(k.Elem) + ">"
	case *Stream:
		if k.Elem == nil {
			return "stream"
		}
		return "stream<" + typ(k.Elem) + ">"
	case *Alias:
		return typ(k.Target)
	case *Record:
		return "record"
	case *Variant:
		return "variant"
	case *Enum:
		return "enum"
	case *Flags:
		return "flags"
	case *Resource:
		return "resource"
	}
	return "?"
}
