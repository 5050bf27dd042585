"""Go 1.19 and Rust (rustc on one file, cargo offline with no dependencies)."""

from _kit import case, file, loc, report, report_location

LOC_FIX = report_location("Show the file/line/column and the message; fix the code there.")

GO_MOD = "go mod init example.com/calc 2>/dev/null\n"
CALC = file("calc.go", """
    package calc

    func Add(a, b int) int { return a + b }

    func Parse(s string) (int, error) {
    	n := 0
    	for _, r := range s {
    		n = n*10 + int(r-'0')
    	}
    	return n, nil
    }
""")


def cargo_new(name="calc"):
    return f"cargo new --vcs none --quiet --lib {name}\n"


CASES = [
    # --- go ------------------------------------------------------------------------------
    case("own-go-test-fail", "go", "go test ./...",
         GO_MOD + CALC + file("calc_test.go", """
             package calc

             import "testing"

             func TestAdd(t *testing.T) {
             	if got := Add(2, 2); got != 5 {
             		t.Errorf("Add(2, 2) = %d, want 5", got)
             	}
             }
         """),
         "go test with one failing test.",
         {"class": "test_failure", "variant": "go_test",
          "failing_tests": [{"id": "TestAdd", "file": "calc_test.go", "name": "TestAdd"}],
          "fix": {"kind": "rerun_failed_tests",
                  "argv": ["go", "test", "-run", "^TestAdd$", "./..."]}}),
    case("own-go-test-subtest-fail", "go", "go test -v ./...",
         GO_MOD + CALC + file("calc_test.go", """
             package calc

             import "testing"

             func TestParse(t *testing.T) {
             	cases := []struct {
             		name string
             		in   string
             		want int
             	}{
             		{"digits", "42", 42},
             		{"empty input", "", -1},
             	}
             	for _, c := range cases {
             		t.Run(c.name, func(t *testing.T) {
             			if got, _ := Parse(c.in); got != c.want {
             				t.Fatalf("Parse(%q) = %d, want %d", c.in, got, c.want)
             			}
             		})
             	}
             }
         """),
         "go test -v with a failing table-driven subtest (the name has a space).",
         {"class": "test_failure", "variant": "go_test",
          "failing_tests": [{"id": "TestParse/empty_input", "file": "calc_test.go",
                             "name": "TestParse/empty_input"}],
          "fix": {"kind": "rerun_failed_tests",
                  "argv": ["go", "test", "-run", "^TestParse$/^empty_input$", "./..."]}},
         notes="Go rewrites the space in the subtest name to '_'. The parent TestParse is "
               "printed as FAIL too, only because its subtest failed: the failing test is the "
               "leaf (as for nested node:test suites)."),
    case("own-go-build-undefined", "go", "go build ./...",
         GO_MOD + file("main.go", """
             package main

             import "fmt"

             func main() {
             	fmt.Println(greeting("go"))
             }
         """),
         "go build: a call to a function that does not exist.",
         {"class": "type_error", "variant": "go", "subject": "greeting",
          "acceptable_subjects": ["main.go"],
          "fix": LOC_FIX, "location": loc("main.go", 6, 14)},
         notes="'undefined: greeting' is a compile (name resolution) error; the vocabulary's "
               "closest class is type_error."),
    case("own-go-type-mismatch", "go", "go vet ./...",
         GO_MOD + file("main.go", """
             package main

             import "fmt"

             func main() {
             	var port int = "8080"
             	fmt.Println(port)
             }
         """),
         "go vet stops on a type error (string constant assigned to int).",
         {"class": "type_error", "variant": "go", "fix": LOC_FIX,
          "location": loc("main.go", 6, 17)}),
    case("own-go-vet-printf", "go", "go vet ./...",
         GO_MOD + file("main.go", """
             package main

             import "fmt"

             func main() {
             	name := "ada"
             	fmt.Printf("user %d\\n", name)
             }
         """),
         "go vet: Printf verb %d with a string argument.",
         {"class": "type_error", "variant": "go_vet", "fix": LOC_FIX,
          "location": loc("main.go", 7, 2)}),
    case("own-go-missing-module", "go", "go build ./...",
         GO_MOD + file("main.go", """
             package main

             import (
             	"fmt"

             	"github.com/google/uuid"
             )

             func main() {
             	fmt.Println(uuid.NewString())
             }
         """),
         "An import that no module in go.mod provides (GOPROXY=off, nothing fetched).",
         {"class": "missing_go_module", "subject": "github.com/google/uuid",
          "fix": {"kind": "go_get", "argv": ["go", "get", "github.com/google/uuid"]}}),
    case("own-go-panic-index", "go", "go run .",
         GO_MOD + file("main.go", """
             package main

             import (
             	"fmt"
             	"os"
             )

             func main() {
             	fmt.Println("config:", os.Args[1])
             }
         """),
         "go run: index out of range on os.Args.",
         {"class": "runtime_error", "variant": "go_panic",
          "fix": report("index out of range [1] with length 1"),
          "location": loc("main.go", 9, None)},
         notes="'panic: runtime error: index out of range [1] with length 1', then the "
               "goroutine trace, 'exit status 2' and exit 1 from go run."),
    case("own-go-syntax-in-test-file", "go", "go test ./...",
         GO_MOD + CALC + file("calc_test.go", """
             package calc

             import "testing"

             func TestAdd(t *testing.T) {
             	if Add(1, 1) != 2 {
             		t.Fatal("bad")
             	}
             }
             }
         """),
         "A stray brace in a _test.go file.",
         {"class": "syntax_error", "variant": "go", "subject": "calc_test.go",
          "fix": LOC_FIX, "location": loc("calc_test.go", 10, 1)},
         notes="go test prints the syntax error, then 'FAIL example.com/calc [setup failed]'."),
    case("own-go-test-timeout", "go", "go test -timeout 2s ./...",
         GO_MOD + CALC + file("calc_test.go", """
             package calc

             import (
             	"testing"
             	"time"
             )

             func TestSlowSync(t *testing.T) {
             	time.Sleep(10 * time.Second)
             }
         """),
         "go test's own -timeout panics a test that runs too long.",
         {"class": "timeout", "variant": "go_test",
          "fix": report("TestSlowSync ran past -timeout 2s."),
          "acceptable_classes": ["test_failure"],
          "acceptable_fixes": [{"kind": "rerun_failed_tests"}]},
         notes="'panic: test timed out after 2s' with the running test named; exit 1."),
    case("own-go-no-go-mod", "go", "go build ./...",
         file("main.go", """
             package main

             func main() {}
         """),
         "go build in a folder without go.mod.",
         {"class": "file_not_found", "subject": "go.mod",
          "fix": report("No go.mod: run go mod init <module> first."),
          "acceptable_classes": ["missing_go_module"]},
         tags=["tricky"],
         notes="Go 1.19 words it 'pattern ./...: directory prefix . does not contain main "
               "module or its selected dependencies': go.mod is not named."),

    # --- rust ----------------------------------------------------------------------------
    case("own-rustc-syntax", "rust", "rustc --edition 2021 main.rs",
         file("main.rs", """
             fn main() {
                 let total = 2 + 3
                 println!("{}", total);
             }
         """),
         "rustc on one file: a missing semicolon.",
         {"class": "syntax_error", "variant": "rust", "subject": "main.rs",
          "fix": LOC_FIX, "location": loc("main.rs", 2, 22)}),
    case("own-rustc-e0308", "rust", "rustc --edition 2021 main.rs",
         file("main.rs", """
             fn port() -> u16 {
                 "8080"
             }

             fn main() {
                 println!("{}", port());
             }
         """),
         "rustc: a &str returned where u16 is declared.",
         {"class": "type_error", "variant": "rust", "subject": "E0308",
          "fix": LOC_FIX, "location": loc("main.rs", 2, 5)}),
    case("own-cargo-test-integration-fail", "rust", "cargo test --offline",
         cargo_new() + file("calc/src/lib.rs", """
             pub fn parse_header(line: &str) -> Option<(&str, &str)> {
                 let (k, v) = line.split_once(':')?;
                 Some((k.trim(), v))
             }
         """) + file("calc/tests/headers.rs", """
             use calc::parse_header;

             #[test]
             fn parses_simple_header() {
                 assert_eq!(parse_header("a:b"), Some(("a", "b")));
             }

             #[test]
             fn trims_the_value() {
                 assert_eq!(parse_header("Host: example"), Some(("Host", "example")));
             }
         """),
         "cargo test: an integration test fails (tests/headers.rs).",
         {"class": "test_failure", "variant": "cargo_test",
          "failing_tests": [{"id": "trims_the_value", "file": "tests/headers.rs",
                             "name": "trims_the_value"}],
          "fix": {"kind": "rerun_failed_tests",
                  "argv": ["cargo", "test", "--offline", "--test", "headers",
                           "trims_the_value"]}},
         cwd="calc"),
    case("own-cargo-test-two-fail-color", "rust", "cargo test --offline --color=always",
         cargo_new() + file("calc/src/lib.rs", """
             pub fn clamp(x: i32, lo: i32, hi: i32) -> i32 {
                 if x < lo { lo } else if x > hi { lo } else { x }
             }

             #[cfg(test)]
             mod tests {
                 use super::*;

                 #[test]
                 fn below() { assert_eq!(clamp(-5, 0, 10), 0); }

                 #[test]
                 fn above() { assert_eq!(clamp(50, 0, 10), 10); }

                 #[test]
                 fn far_above() { assert_eq!(clamp(500, 0, 10), 10); }
             }
         """),
         "cargo test with colour forced: two unit tests fail.",
         {"class": "test_failure", "variant": "cargo_test",
          "failing_tests": [
              {"id": "tests::above", "file": "src/lib.rs", "name": "above"},
              {"id": "tests::far_above", "file": "src/lib.rs", "name": "far_above"}],
          "fix": {"kind": "rerun_failed_tests",
                  "argv": ["cargo", "test", "--offline", "tests::above",
                           "tests::far_above"]}},
         cwd="calc", tags=["ansi"]),
    case("own-cargo-missing-crate", "rust", "cargo build --offline",
         cargo_new() + file("calc/src/lib.rs", """
             use rand::Rng;

             pub fn roll() -> u8 {
                 rand::thread_rng().gen_range(1..=6)
             }
         """),
         "A crate used in the code but not declared in Cargo.toml.",
         {"class": "missing_rust_crate", "subject": "rand",
          "fix": {"kind": "cargo_add", "argv": ["cargo", "add", "rand"]}},
         cwd="calc"),
    case("own-cargo-run-panic", "rust", "cargo run --offline --quiet",
         "cargo new --vcs none --quiet app\n" + file("app/src/main.rs", """
             use std::env;

             fn main() {
                 let path = env::var("APP_CONFIG").ok();
                 println!("config at {}", path.unwrap());
             }
         """),
         "cargo run: unwrap() on None.",
         {"class": "runtime_error", "variant": "rust_panic",
          "fix": report("called `Option::unwrap()` on a `None` value (APP_CONFIG unset)"),
          "location": loc("src/main.rs", 5, 35)},
         cwd="app", notes="Exit 101."),
    case("own-cargo-no-manifest", "rust", "cargo test --offline",
         file("src/main.rs", "fn main() {}"),
         "cargo in a folder without Cargo.toml.",
         {"class": "file_not_found", "subject": "Cargo.toml",
          "fix": report("No Cargo.toml here or above: wrong folder, or cargo init.")}),
]
