package syntax

import "fmt"

// Pos is a position in a source file: file name, 1-based line and column
// (column counted in bytes).
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	if p.File == "" {
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// File is one parsed .wit file.
type File struct {
	Name string
	// Package is the leading "package ...;" declaration, or nil.
	Package *PackageDecl
	// Items are the top-level items that belong to the file's own package:
	// toplevel uses, interfaces and worlds.
	Items []Item
	// Nested are "package x:y { ... }" blocks.
	Nested []*NestedPackage
}

// PackageDecl is a package name as declared.
type PackageDecl struct {
	Docs      string
	Namespace string // colon-joined for nested namespaces
	Name      string // slash-joined when the 🪺 form nests packages
	Version   string // "" when absent
	Pos       Pos
}

// NestedPackage is "package ns:name@v { items }".
type NestedPackage struct {
	Decl  *PackageDecl
	Items []Item
}

// Item is a top-level or package-level item: *TopUse, *Interface or *World.
type Item interface{ ItemPos() Pos }

// Ident is an identifier with its position. Name has any leading '%'
// removed.
type Ident struct {
	Name string
	Pos  Pos
}

// UsePath names an interface: a bare local name (Namespace == "") or
// ns:pkg/iface@version.
type UsePath struct {
	Namespace string // colon-joined for nested namespaces
	Package   string // slash-joined when the 🪺 form nests packages
	Name      Ident  // the interface name
	Version   string
	Pos       Pos
}

// Gate is the feature gate written before an item.
type Gate struct {
	Since      string
	Unstable   string
	Deprecated string
	Pos        Pos
}

// TopUse is a top-level "use path (as name)?;".
type TopUse struct {
	Path UsePath
	As   *Ident
	Docs string
	Pos  Pos
}

// Interface is "interface name { items }".
type Interface struct {
	Name  Ident
	Docs  string
	Gate  Gate
	Items []InterfaceItem
	Pos   Pos
}

// InterfaceItem is *Use, *TypeDecl or *Func.
type InterfaceItem interface{ ifaceItem() }

// Use is "use path.{a, b as c};" inside an interface or world.
type Use struct {
	Path  UsePath
	Names []UseName
	Docs  string
	Gate  Gate
	Pos   Pos
}

// UseName is one name of a use list.
type UseName struct {
	Name Ident
	As   *Ident
}

// TypeDecl is a named type declaration: type alias, record, variant,
// enum, flags or resource.
type TypeDecl struct {
	Name       Ident
	Docs       string
	Gate       Gate
	ExternalID string
	Kind       TypeDeclKind
	Pos        Pos
}

// TypeDeclKind is *AliasDecl, *RecordDecl, *VariantDecl, *EnumDecl,
// *FlagsDecl or *ResourceDecl.
type TypeDeclKind interface{ typeDeclKind() }

type AliasDecl struct{ Type Type }

type RecordDecl struct{ Fields []NamedType }

type VariantDecl struct{ Cases []VariantCase }

type VariantCase struct {
	Name Ident
	Type Type // nil when no payload
	Docs string
}

type EnumDecl struct{ Cases []DocIdent }

type FlagsDecl struct{ Flags []DocIdent }

// DocIdent is an identifier with its doc comment (enum cases, flags).
type DocIdent struct {
	Name Ident
	Docs string
}

// ResourceDecl is "resource r;" (Funcs nil) or "resource r { ... }".
type ResourceDecl struct {
	Funcs []*ResourceFunc
	// Braced records whether the body was written with braces.
	Braced bool
}

// ResourceFuncKind distinguishes resource members.
type ResourceFuncKind uint8

const (
	ResourceMethod ResourceFuncKind = iota
	ResourceStatic
	ResourceConstructor
)

// ResourceFunc is a method, static function or constructor of a resource.
type ResourceFunc struct {
	Kind       ResourceFuncKind
	Name       Ident // zero for a constructor
	Func       FuncType
	Docs       string
	Gate       Gate
	ExternalID string
	Pos        Pos
}

// Func is "name: func(...) -> T;" in an interface.
type Func struct {
	Name       Ident
	Func       FuncType
	Docs       string
	Gate       Gate
	ExternalID string
	Pos        Pos
}

// FuncType is "async? func(params) (-> T)?".
type FuncType struct {
	Async  bool
	Params []NamedType
	Result Type // nil when absent
	Pos    Pos
}

// NamedType is "name: type" (record fields, parameters).
type NamedType struct {
	Name Ident
	Type Type
	Docs string
}

// World is "world name { items }".
type World struct {
	Name  Ident
	Docs  string
	Gate  Gate
	Items []WorldItem
	Pos   Pos
}

// WorldItem is *Import, *Export, *Use, *TypeDecl or *Include.
type WorldItem interface{ worldItem() }

// ExternKind says what an import or export brings in.
type ExternKind uint8

const (
	ExternPath      ExternKind = iota // import wasi:io/poll; or import name: path;
	ExternFunc                        // import name: func(...);
	ExternInterface                   // import name: interface { ... }
)

// Extern is the body of an import or export.
type Extern struct {
	// Name is set for "import name: ..." forms, nil for "import path;".
	Name       *Ident
	Kind       ExternKind
	Path       UsePath         // ExternPath
	Func       FuncType        // ExternFunc
	Items      []InterfaceItem // ExternInterface
	Docs       string
	Gate       Gate
	ExternalID string
	Pos        Pos
}

type Import struct{ Extern }
type Export struct{ Extern }

// Include is "include path (with { a as b, ... })?;".
type Include struct {
	Path UsePath
	With []IncludeName
	Docs string
	Gate Gate
	Pos  Pos
}

type IncludeName struct {
	Name Ident
	As   Ident
}

// Type is a type expression: *Prim, *Named, *Handle, *List, *Option,
// *Result, *Tuple, *Map, *Future or *Stream.
type Type interface{ TypePos() Pos }

// Prim is a primitive keyword type: bool, u8 .. s64, f32, f64, char,
// string, error-context.
type Prim struct {
	Name string
	Pos  Pos
}

// Named refers to a type by name (an owned handle when it names a
// resource).
type Named struct{ Name Ident }

// Handle is borrow<r> or own<r>.
type Handle struct {
	Borrow   bool
	Resource Ident
	Pos      Pos
}

// List is list<T> or, with Len > 0, list<T, Len>.
type List struct {
	Elem Type
	Len  uint32
	Pos  Pos
}

type Option struct {
	Type Type
	Pos  Pos
}

// Result: OK and Err nil when absent.
type Result struct {
	OK, Err Type
	Pos     Pos
}

type Tuple struct {
	Types []Type
	Pos   Pos
}

type Map struct {
	Key, Value Type
	Pos        Pos
}

type Future struct {
	Elem Type // nil for bare future
	Pos  Pos
}

type Stream struct {
	Elem Type // nil for bare stream
	Pos  Pos
}

func (n *TopUse) ItemPos() Pos    { return n.Pos }
func (n *Interface) ItemPos() Pos { return n.Pos }
func (n *World) ItemPos() Pos     { return n.Pos }

func (*Use) ifaceItem()      {}
func (*TypeDecl) ifaceItem() {}
func (*Func) ifaceItem()     {}

func (*Import) worldItem()   {}
func (*Export) worldItem()   {}
func (*Use) worldItem()      {}
func (*TypeDecl) worldItem() {}
func (*Include) worldItem()  {}

func (*AliasDecl) typeDeclKind()    {}
func (*RecordDecl) typeDeclKind()   {}
func (*VariantDecl) typeDeclKind()  {}
func (*EnumDecl) typeDeclKind()     {}
func (*FlagsDecl) typeDeclKind()    {}
func (*ResourceDecl) typeDeclKind() {}

func (t *Prim) TypePos() Pos   { return t.Pos }
func (t *Named) TypePos() Pos  { return t.Name.Pos }
func (t *Handle) TypePos() Pos { return t.Pos }
func (t *List) TypePos() Pos   { return t.Pos }
func (t *Option) TypePos() Pos { return t.Pos }
func (t *Result) TypePos() Pos { return t.Pos }
func (t *Tuple) TypePos() Pos  { return t.Pos }
func (t *Map) TypePos() Pos    { return t.Pos }
func (t *Future) TypePos() Pos { return t.Pos }
func (t *Stream) TypePos() Pos { return t.Pos }

// Error is a syntax error at a position.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Parse is implemented in parser.go:
//
//	func Parse(filename string, src []byte) (*File, error)
//
// It returns a *Error for the first syntax error.
