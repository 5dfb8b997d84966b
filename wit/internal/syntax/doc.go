// Package syntax turns WIT source text into an abstract syntax tree. It
// checks only what the grammar in WIT.md decides; names, references,
// packages and gate compatibility are left to the resolver in package wit.
//
// # Parsing
//
// [Parse] reads one file and returns a [File] or the first error as an
// [*Error] carrying a file:line:col position (1-based, column in bytes).
// Parse never panics; type nesting is capped so hostile input cannot
// exhaust the stack.
//
// # Lexical rules
//
// Identifiers are kebab-case component-model labels: words separated by
// single '-', each word starting with a letter and being all lowercase or
// all uppercase. A '%' prefix allows a keyword as an identifier. Versions
// are full semver. Files must be valid UTF-8 without control codes other
// than newline, carriage return and tab, bidirectional overrides or
// deprecated code points, anywhere including comments.
//
// # Doc comments
//
// "///" line comments and "/** */" block comments are doc comments. They
// attach to the item, field, case, flag, parameter or resource member that
// follows them, and may sit before or after that item's feature gates.
// "////" and "/***" start ordinary comments.
//
// # Departures from the grammar
//
// Two places accept more than WIT.md's EBNF, because real WIT does:
// function parameter lists may end with a comma (the WASI files do), and
// "include path with { ... }" may be followed by ';' (as WIT.md's own
// example writes it). In "import a:b/c;" a colon with no space on either
// side joins a namespace, so it names an interface, while "import a: b;" is
// a named import.
package syntax
