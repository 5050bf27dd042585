"""git (no remote is ever reached) and GNU make."""

from _kit import apt, case, file, git_repo, install_command, loc, pip_cmd, report, report_location

COMMIT = "git add -A\ngit commit -q -m 'initial'\n"
APP = file("app.py", """
    def greet(name):
        return "hello " + name
""")

CONFLICT = (git_repo() + APP + COMMIT
            + "git switch -q -c feature\n"
            + file("app.py", """
                def greet(name):
                    return "hi there, " + name
            """) + "git commit -q -am 'friendlier greeting'\n"
            + "git switch -q main\n"
            + file("app.py", """
                def greet(name):
                    return "good day, " + name
            """) + "git commit -q -am 'formal greeting'\n")

CASES = [
    # --- git -------------------------------------------------------------------------------
    case("own-git-not-a-repo-log", "git", "git log --oneline -5", APP,
         "git log in a folder that is not a repository.",
         {"class": "git_error", "variant": "not_a_repository", "subject": ".git",
          "fix": report("Not inside a git repository; cd into the repo or git init.")}),
    case("own-git-unknown-revision", "git", "git diff v2.0..HEAD --stat",
         git_repo() + APP + COMMIT, "git diff against a tag that does not exist.",
         {"class": "git_error", "variant": "unknown_ref", "subject": "v2.0..HEAD",
          "acceptable_subjects": ["v2.0"],
          "fix": report("There is no v2.0 tag here (git tag -l; git fetch --tags).")}),
    case("own-git-switch-missing-branch", "git", "git switch release/1.2",
         git_repo() + APP + COMMIT, "git switch to a branch that does not exist.",
         {"class": "git_error", "variant": "unknown_ref", "subject": "release/1.2",
          "fix": report("No branch release/1.2 (git switch -c to create it).")}),
    case("own-git-cherry-pick-bad-revision", "git", "git cherry-pick 1a2b3c4",
         git_repo() + APP + COMMIT, "git cherry-pick of a commit id that does not exist.",
         {"class": "git_error", "variant": "unknown_ref", "subject": "1a2b3c4",
          "fix": report("No commit 1a2b3c4 in this repository.")}),
    case("own-git-merge-conflict", "git", "git merge feature", CONFLICT,
         "Both branches changed the same line.",
         {"class": "git_error", "variant": "merge_conflict", "subject": "app.py",
          "fix": report("Resolve the conflict in app.py, then git add and git commit.")}),
    case("own-git-rebase-conflict", "git", "git rebase main",
         CONFLICT + "git switch -q feature\n",
         "Rebasing a feature branch onto a main that changed the same line.",
         {"class": "git_error", "variant": "merge_conflict", "subject": "app.py",
          "fix": report("Resolve app.py, git add it, then git rebase --continue.")}),
    case("own-git-stash-pop-conflict", "git", "git stash pop",
         git_repo() + APP + COMMIT + file("app.py", """
             def greet(name):
                 return "hey " + name
         """) + "git stash -q\n" + file("app.py", """
             def greet(name):
                 return "yo " + name
         """) + "git commit -q -am 'yo'\n",
         "git stash pop onto a commit that changed the stashed line.",
         {"class": "git_error", "variant": "merge_conflict", "subject": "app.py",
          "fix": report("Resolve app.py; the stash is kept (git stash drop when done).")}),
    case("own-git-push-no-destination", "git", "git push", git_repo() + APP + COMMIT,
         "git push in a repository without any remote.",
         {"class": "git_error", "variant": "no_remote",
          "fix": report("No remote configured: git remote add origin <url>.")}),
    case("own-git-push-origin-missing", "git", "git push -u origin main",
         git_repo() + APP + COMMIT, "git push to an origin that was never added.",
         {"class": "git_error", "variant": "no_remote", "subject": "origin",
          "fix": report("No remote named origin: git remote add origin <url>.")}),
    case("own-git-checkout-would-overwrite", "git", "git checkout feature",
         CONFLICT + file("app.py", """
             def greet(name):
                 return "work in progress, " + name
         """),
         "Switching branches with uncommitted changes to a file that differs.",
         {"class": "git_error", "variant": "dirty_worktree", "subject": "app.py",
          "fix": report("Commit or stash the changes to app.py first.")}),
    case("own-git-commit-nothing", "git", "git commit -m 'update docs'",
         git_repo() + APP + COMMIT, "git commit with nothing staged and a clean tree.",
         {"class": "benign_nonzero_exit", "variant": "git_nothing_to_commit",
          "fix": {"kind": "none"}},
         tags=["negative"]),
    case("own-git-diff-exit-code", "git", "git diff --exit-code --stat",
         git_repo() + APP + COMMIT + "echo '# changed' >> app.py\n",
         "git diff --exit-code exits 1 because the tree has changes.",
         {"class": "benign_nonzero_exit", "variant": "diff_differs", "fix": {"kind": "none"}},
         tags=["negative"]),
    case("own-git-clone-refused", "git", "git clone http://127.0.0.1:9/team/app.git",
         file("README.md", "# workspace"),
         "git clone from a loopback address where nothing listens.",
         {"class": "network_error", "subject": "127.0.0.1:9",
          "acceptable_subjects": ["127.0.0.1"],
          "fix": {"kind": "retry",
                  "description": "Nothing answers at 127.0.0.1:9: check the URL or server."}},
         tags=["network"]),

    # --- make -------------------------------------------------------------------------------
    case("own-make-no-rule", "make", "make deploy",
         file("Makefile", """
             .PHONY: build test
             build:
             \t@echo building
             test:
             \t@echo testing
         """),
         "make with a target the Makefile does not have.",
         {"class": "make_error", "subject": "deploy",
          "fix": report("No 'deploy' target (targets: build, test).")}),
    case("own-make-no-makefile", "make", "make", file("README.md", "# app"),
         "make in a folder without a Makefile.",
         {"class": "make_error", "fix": report("No Makefile here."),
          "acceptable_classes": ["file_not_found"]}),
    case("own-make-missing-prerequisite", "make", "make build/app",
         file("Makefile", """
             build/app: src/main.c src/util.c
             \tmkdir -p build
             \tcc -o $@ $^
         """) + file("src/main.c", "int main(void) { return 0; }"),
         "A prerequisite source file does not exist and has no rule.",
         {"class": "make_error", "subject": "src/util.c",
          "fix": report("src/util.c does not exist and no rule makes it."),
          "acceptable_classes": ["file_not_found"]}),
    case("own-make-separator-spaces", "make", "make test",
         file("Makefile", """
             .PHONY: build test

             build:
             \tgo build ./...

             test:
                 go test ./...
         """),
         "The test recipe is indented with spaces (line 7).",
         {"class": "syntax_error", "variant": "makefile", "subject": "Makefile",
          "fix": report_location("Recipe lines must start with a tab."),
          "location": loc("Makefile", 7, None), "acceptable_classes": ["make_error"]}),
    case("own-make-recipe-sh-not-found", "make", "make lint",
         file("Makefile", """
             lint:
             \tshellcheck scripts/*.sh && echo "lint ok"
         """) + file("scripts/run.sh", "echo run"),
         "A recipe with && runs under /bin/sh (dash), which cannot find shellcheck.",
         {"class": "missing_command", "variant": "make_recipe", "subject": "shellcheck",
          "fix": install_command(apt("shellcheck")), "acceptable_classes": ["make_error"]},
         notes="'/bin/sh: 1: shellcheck: not found' then 'make: *** [Makefile:2: lint] "
               "Error 127', make exits 2."),
    case("own-make-recipe-direct-exec", "make", "make fmt",
         file("Makefile", """
             fmt:
             \tblack --check .
         """),
         "A simple recipe: GNU make execs it itself, without a shell.",
         {"class": "missing_command", "variant": "make_recipe", "subject": "black",
          "fix": install_command(pip_cmd("black")), "acceptable_classes": ["make_error"]},
         notes="'make: black: No such file or directory', Error 127, make exits 2."),
    case("own-make-C-missing-dir", "make", "make -C frontend build",
         file("Makefile", "all:\n\t@echo ok", dedent=False),
         "make -C into a folder that does not exist.",
         {"class": "file_not_found", "subject": "frontend",
          "fix": report("There is no frontend/ folder."),
          "acceptable_classes": ["make_error"]}),
    case("own-make-wraps-go-test", "make", "make test",
         "go mod init example.com/calc 2>/dev/null\n" + file("Makefile", """
             test:
             \tgo test ./...
         """) + file("calc.go", """
             package calc

             func Double(n int) int { return n * 3 }
         """) + file("calc_test.go", """
             package calc

             import "testing"

             func TestDouble(t *testing.T) {
             	if Double(4) != 8 {
             		t.Fatalf("Double(4) = %d", Double(4))
             	}
             }
         """),
         "make test runs go test, which fails; make adds its Error line.",
         {"class": "test_failure", "variant": "go_test",
          "failing_tests": [{"id": "TestDouble", "file": "calc_test.go", "name": "TestDouble"}],
          "fix": {"kind": "rerun_failed_tests",
                  "argv": ["go", "test", "-run", "^TestDouble$", "./..."]}},
         tags=["wrapped"]),
    case("own-make-wraps-python-traceback", "make", "make data",
         file("Makefile", """
             data:
             \tpython scripts/build_data.py
         """) + file("scripts/build_data.py", """
             rows = [{"id": 1}, {"id": 2, "name": "b"}]
             for row in rows:
                 print(row["name"].upper())
         """),
         "make runs a Python script that raises KeyError.",
         {"class": "runtime_error", "variant": "python_KeyError", "subject": "name",
          "acceptable_subjects": ["KeyError"],
          "fix": report("KeyError: 'name' in scripts/build_data.py"),
          "location": loc("scripts/build_data.py", 3, None)},
         tags=["wrapped"]),
]
