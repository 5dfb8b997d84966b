package wit_test

import (
	"fmt"
	"os"

	"github.com/theater-go/theater/wit"
)

const exampleWIT = `package local:demo@1.0.0;

interface shared {
  record metadata {
    name: string,
    size: u64,
  }
}

interface host {
  use shared.{metadata};
  get: func(key: string) -> option<metadata>;
}

world app {
  import host;
  export run: func(args: list<string>) -> result<_, string>;
}
`

func ExampleParse() {
	m, err := wit.Parse("demo.wit", []byte(exampleWIT))
	if err != nil {
		fmt.Println(err)
		return
	}
	w, _ := m.World("app")
	// shared is imported too: host's types come from it.
	for _, it := range w.Imports {
		fmt.Println("import", it.Key())
	}
	for _, it := range w.Exports {
		fmt.Println("export", it.Key(), it.Function.Result)
	}
	// Output:
	// import local:demo/shared@1.0.0
	// import local:demo/host@1.0.0
	// export run result<_, string>
}

func ExampleModel_Type() {
	m, err := wit.Parse("demo.wit", []byte(exampleWIT))
	if err != nil {
		fmt.Println(err)
		return
	}
	t, _ := m.Type("local:demo/shared.metadata")
	for _, f := range t.(*wit.TypeDef).Kind.(*wit.Record).Fields {
		fmt.Println(f.Name, f.Type)
	}
	u, _ := m.Type("u32")
	fmt.Println(u)
	_, err = m.Type("shared.nope")
	fmt.Println(err)
	// Output:
	// name string
	// size u64
	// u32
	// wit: type "nope" not found in interface local:demo/shared@1.0.0
}

func ExamplePrint() {
	m, err := wit.Parse("demo.wit", []byte(`package local:demo;
/// Files.
interface files { resource file { constructor(path: string); read: func(n: u32) -> list<u8>; } }`))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := wit.Print(os.Stdout, m.Root); err != nil {
		fmt.Println(err)
	}
	// Output:
	// package local:demo;
	//
	// /// Files.
	// interface files {
	//   resource file {
	//     constructor(path: string);
	//
	//     read: func(n: u32) -> list<u8>;
	//   }
	// }
}

func ExamplePrintWorld() {
	m, err := wit.Parse("demo.wit", []byte(exampleWIT))
	if err != nil {
		fmt.Println(err)
		return
	}
	w, _ := m.World("app")
	if err := wit.PrintWorld(os.Stdout, w); err != nil {
		fmt.Println(err)
	}
	// Output:
	// package local:demo@1.0.0;
	//
	// world app {
	//   import shared;
	//
	//   import host;
	//
	//   export run: func(args: list<string>) -> result<_, string>;
	// }
}
