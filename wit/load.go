package wit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/theater-go/theater/wit/internal/syntax"
)

// LoadOption configures [Load] and [Parse].
type LoadOption func(*loadConfig)

type loadConfig struct {
	deps []string
}

// WithDeps adds dependency roots: each path is a .wit file (whose nested
// package blocks count too) or a directory holding one package, exactly
// like an entry of a deps/ folder.
func WithDeps(paths ...string) LoadOption {
	return func(c *loadConfig) { c.deps = append(c.deps, paths...) }
}

// Load reads and resolves the WIT at path. A file is a single-file root
// package whose nested "package x { ... }" blocks provide dependencies. A
// directory's *.wit files together form the root package, and each entry
// of its deps/ folder (a file or a directory) provides one more package.
// Only packages the root reaches, plus those nested in the root's own
// files, end up in the model.
//
// I/O failures are returned as they come from package os; everything
// else is an [*Error].
func Load(path string, opts ...LoadOption) (*Model, error) {
	var c loadConfig
	for _, o := range opts {
		o(&c)
	}
	l := newLoader()
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("wit: %w", err)
	}
	var root []*unit
	if info.IsDir() {
		root, err = l.readDir(path)
		if err == nil {
			err = l.readDepsDir(filepath.Join(path, "deps"))
		}
	} else {
		root, err = l.readFiles([]string{path})
	}
	if err != nil {
		return nil, err
	}
	if err := l.readDeps(c.deps); err != nil {
		return nil, err
	}
	return l.resolve(root)
}

// Parse resolves one in-memory WIT file as the root package, with
// dependencies from its nested package blocks and from [WithDeps].
func Parse(filename string, src []byte, opts ...LoadOption) (*Model, error) {
	var c loadConfig
	for _, o := range opts {
		o(&c)
	}
	l := newLoader()
	f, err := parseFile(filename, src)
	if err != nil {
		return nil, err
	}
	root, err := l.addFiles([]*syntax.File{f})
	if err != nil {
		return nil, err
	}
	if err := l.readDeps(c.deps); err != nil {
		return nil, err
	}
	return l.resolve(root)
}

func parseFile(filename string, src []byte) (*syntax.File, error) {
	f, err := syntax.Parse(filename, src)
	if err == nil {
		return f, nil
	}
	var se *syntax.Error
	if errors.As(err, &se) {
		return nil, &Error{Pos: se.Pos, Msg: se.Msg, Err: ErrSyntax}
	}
	return nil, &Error{Pos: Pos{File: filename}, Msg: err.Error(), Err: ErrSyntax}
}

// unit is the source of one package: the top-level items of a file or
// directory, or one nested package block.
type unit struct {
	name PackageName
	decl *syntax.PackageDecl // the first declaration: position and docs
	// scopes are the item lists that share file-level use aliases: one
	// per file, or the block of a nested package.
	scopes [][]syntax.Item
}

// loader collects units, merging duplicates of the same package.
type loader struct {
	units map[string]*unit // by PackageName.String()
	order []*unit          // in the order first seen, for stable results
}

func newLoader() *loader { return &loader{units: map[string]*unit{}} }

func (l *loader) readDeps(paths []string) error {
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("wit: %w", err)
		}
		if info.IsDir() {
			_, err = l.readDir(p)
		} else {
			_, err = l.readFiles([]string{p})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readDepsDir reads each entry of a deps/ folder as one dependency; a
// missing folder just means no dependencies.
func (l *loader) readDepsDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("wit: %w", err)
	}
	var paths []string
	for _, e := range entries {
		if e.IsDir() || strings.HasSuffix(e.Name(), ".wit") {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	return l.readDeps(paths)
}

// readDir reads the *.wit files of dir (not its subdirectories) as one
// package.
func (l *loader) readDir(dir string) ([]*unit, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("wit: %w", err)
	}
	var paths []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".wit") {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	if len(paths) == 0 {
		return nil, resolveErr(Pos{File: dir}, "no .wit files in directory")
	}
	return l.readFiles(paths)
}

func (l *loader) readFiles(paths []string) ([]*unit, error) {
	files := make([]*syntax.File, 0, len(paths))
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("wit: %w", err)
		}
		f, err := parseFile(p, src)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return l.addFiles(files)
}

// addFiles registers the package formed by the top-level items of files,
// and every nested package block in them. It returns the units defined
// by these files with the files' own package last.
func (l *loader) addFiles(files []*syntax.File) ([]*unit, error) {
	var own *unit
	var out []*unit
	var firstItem syntax.Item
	for _, f := range files {
		for _, n := range f.Nested {
			if n == nil || n.Decl == nil {
				continue
			}
			u, err := l.add(&unit{name: declName(n.Decl), decl: n.Decl, scopes: [][]syntax.Item{n.Items}})
			if err != nil {
				return nil, err
			}
			out = append(out, u)
		}
		if firstItem == nil && len(f.Items) > 0 {
			firstItem = f.Items[0]
		}
		if d := f.Package; d != nil {
			if own == nil {
				own = &unit{name: declName(d), decl: d}
			} else if n := declName(d); n != own.name {
				return nil, packageMismatch(d, n, own)
			} else if own.decl.Docs == "" {
				own.decl = d
			}
		}
	}
	if own == nil {
		if firstItem != nil {
			return nil, resolveErr(firstItem.ItemPos(), "no package declaration for this item")
		}
		if len(out) == 0 {
			name := ""
			if len(files) > 0 {
				name = files[0].Name
			}
			return nil, resolveErr(Pos{File: name}, "no package declared")
		}
		return out, nil
	}
	for _, f := range files {
		if len(f.Items) > 0 {
			own.scopes = append(own.scopes, f.Items)
		}
	}
	u, err := l.add(own)
	if err != nil {
		return nil, err
	}
	return append(out, u), nil
}

func packageMismatch(d *syntax.PackageDecl, n PackageName, own *unit) *Error {
	if n.Namespace == own.name.Namespace && n.Name == own.name.Name {
		return resolveErr(d.Pos, "version conflict: package %s does not match %s declared at %s", n, own.name, own.decl.Pos)
	}
	return resolveErr(d.Pos, "package %s does not match %s declared at %s", n, own.name, own.decl.Pos)
}

func declName(d *syntax.PackageDecl) PackageName {
	return PackageName{Namespace: d.Namespace, Name: d.Name, Version: d.Version}
}

// add registers u, or returns the unit already registered under its name
// when both have the same contents.
func (l *loader) add(u *unit) (*unit, error) {
	key := u.name.String()
	old, ok := l.units[key]
	if !ok {
		l.units[key] = u
		l.order = append(l.order, u)
		return u, nil
	}
	if !sameSyntax(reflect.ValueOf(old.scopes), reflect.ValueOf(u.scopes)) {
		return nil, resolveErr(u.decl.Pos, "package %s is defined twice with different contents (first at %s)", u.name, old.decl.Pos)
	}
	return old, nil
}

var posType = reflect.TypeFor[syntax.Pos]()

// sameSyntax reports whether two syntax trees are equal apart from
// positions, which differ between two copies of the same package.
func sameSyntax(a, b reflect.Value) bool {
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameSyntax(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameSyntax(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		if a.Type() == posType {
			return true
		}
		for i := range a.NumField() {
			if !sameSyntax(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	return a.Equal(b)
}
