package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

func newWitCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "wit",
		Short: "Check, print and use WIT packages (no server needed)",
		Long: `The wit commands read WIT: a .wit file, or a directory of .wit files with
dependencies in its deps/ folder. Extra dependency packages can be named
with --dep (a file or a directory per package).`,
	}
	cmd.AddCommand(newWitCheckCmd(), newWitPrintCmd(), newWitEncodeCmd(), newWitDecodeCmd())
	return cmd
}

func loadWIT(path string, deps []string) (*wit.Model, error) {
	return wit.Load(path, wit.WithDeps(deps...))
}

func newWitCheckCmd() *cobra.Command {
	var deps []string
	cmd := &cobra.Command{
		Use:   "check PATH",
		Short: "Resolve a WIT package and its dependencies; print one line per package",
		Long: `check parses and resolves PATH with its dependencies. It prints a one-line
summary per package and exits 0, or prints the first error with its
file:line:col and exits 1.`,
		Example: `  theater wit check ./wit
  theater wit check proxy.wit --dep ../io --dep ../clocks`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := loadWIT(args[0], deps)
			if err != nil {
				return err
			}
			for _, p := range m.Packages {
				fmt.Fprintln(cmd.OutOrStdout(), packageSummary(p, p == m.Root))
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&deps, "dep", nil, "an extra dependency package (file or directory); repeatable")
	return cmd
}

func packageSummary(p *wit.Package, root bool) string {
	var types, funcs int
	for _, i := range p.Interfaces {
		types += len(i.Types)
		funcs += len(i.Functions)
	}
	role := "dependency"
	if root {
		role = "root"
	}
	return fmt.Sprintf("%s (%s): %s, %s, %s, %s", p.Name, role,
		plural(len(p.Interfaces), "interface"), plural(len(p.Worlds), "world"),
		plural(types, "type"), plural(funcs, "function"))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func newWitPrintCmd() *cobra.Command {
	var (
		deps  []string
		world string
	)
	cmd := &cobra.Command{
		Use:   "print PATH",
		Short: "Print the root package (or one world) as canonical WIT",
		Long: `print resolves PATH and prints its root package as canonical WIT. With
--world it prints only that world, with includes merged and the
interfaces it needs listed as imports.`,
		Example: `  theater wit print ./wit
  theater wit print ./wit --world actor`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := loadWIT(args[0], deps)
			if err != nil {
				return err
			}
			if world == "" {
				return wit.Print(cmd.OutOrStdout(), m.Root)
			}
			w, err := m.World(world)
			if err != nil {
				return err
			}
			return wit.PrintWorld(cmd.OutOrStdout(), w)
		},
	}
	cmd.Flags().StringArrayVar(&deps, "dep", nil, "an extra dependency package (file or directory); repeatable")
	cmd.Flags().StringVar(&world, "world", "", "print only this world (a name in the root package, or ns:pkg/world)")
	return cmd
}

// typeFlags are the flags that pick a WIT type for encode and decode.
type typeFlags struct {
	witPath  string
	deps     []string
	typeName string
	base64   bool
}

func (f *typeFlags) register(cmd *cobra.Command, base64Help string) {
	cmd.Flags().StringVar(&f.witPath, "wit", "", "WIT file or directory that defines the type (not needed for primitives)")
	cmd.Flags().StringArrayVar(&f.deps, "dep", nil, "an extra dependency package (file or directory); repeatable")
	cmd.Flags().StringVar(&f.typeName, "type", "", "the type: a primitive (u32, string) or iface.name / ns:pkg/iface.name")
	cmd.Flags().BoolVar(&f.base64, "base64", false, base64Help)
	_ = cmd.MarkFlagRequired("type")
}

func (f *typeFlags) resolve() (wit.Type, error) {
	if f.witPath == "" {
		m, err := wit.Parse("empty.wit", []byte("package theater:cli;\n"))
		if err != nil {
			return nil, err
		}
		t, err := m.Type(f.typeName)
		if err != nil {
			return nil, fmt.Errorf("%w (give --wit PATH for a named type)", err)
		}
		return t, nil
	}
	m, err := loadWIT(f.witPath, f.deps)
	if err != nil {
		return nil, err
	}
	return m.Type(f.typeName)
}

func newWitEncodeCmd() *cobra.Command {
	var f typeFlags
	cmd := &cobra.Command{
		Use:   "encode --type NAME [--wit PATH] [JSON]",
		Short: "Check a JSON value against a WIT type and write it as msgpack",
		Long: `encode reads a JSON value (the argument, or standard input when there is
none), checks it against the WIT type and writes the msgpack encoding to
standard output; --base64 writes it as one base64 line instead. A value
that does not fit is an error naming the path into the value.`,
		Example: `  theater wit encode --wit ./wit --type api.transfer '{"amount": 10, "to": "bob"}' --base64
  theater wit encode --type list<u8> '"aGk="' > value.msgpack`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := f.resolve()
			if err != nil {
				return err
			}
			var in []byte
			if len(args) == 1 {
				in = []byte(args[0])
			} else if in, err = io.ReadAll(cmd.InOrStdin()); err != nil {
				return err
			}
			out, err := codec.FromJSON(t, in)
			if err != nil {
				return err
			}
			if f.base64 {
				_, err = fmt.Fprintln(cmd.OutOrStdout(), base64.StdEncoding.EncodeToString(out))
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	f.register(cmd, "write base64 text instead of raw msgpack bytes")
	return cmd
}

func newWitDecodeCmd() *cobra.Command {
	var (
		f      typeFlags
		indent bool
	)
	cmd := &cobra.Command{
		Use:   "decode --type NAME [--wit PATH]",
		Short: "Read msgpack from standard input, check it against a WIT type, print JSON",
		Long: `decode reads one msgpack value from standard input (base64 text with
--base64), checks it against the WIT type and prints it as JSON.`,
		Example: `  theater wit encode --type u32 7 | theater wit decode --type u32
  echo kqFhoWI= | theater wit decode --type 'tuple<string, string>' --base64`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := f.resolve()
			if err != nil {
				return err
			}
			in, err := io.ReadAll(cmd.InOrStdin())
			if err != nil {
				return err
			}
			if f.base64 {
				if in, err = base64.StdEncoding.DecodeString(strings.TrimSpace(string(in))); err != nil {
					return fmt.Errorf("standard input is not base64: %w", err)
				}
			}
			out, err := codec.ToJSON(t, in)
			if err != nil {
				return err
			}
			if indent {
				var buf bytes.Buffer
				if err := json.Indent(&buf, out, "", "  "); err != nil {
					return err
				}
				out = buf.Bytes()
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", out)
			return err
		},
	}
	f.register(cmd, "read base64 text instead of raw msgpack bytes")
	cmd.Flags().BoolVar(&indent, "indent", false, "indent the JSON output")
	return cmd
}
