"""Shells: missing commands, permissions, missing files, CRLF scripts, interrupts, timeouts."""

from _kit import apt, case, file, install_command, none, pip_cmd, raw, report

SCRIPT_SRC = file("src/app.py", """
    # TODO: split this module
    print("hello")
""")

CASES = [
    # --- missing commands -------------------------------------------------------------
    case("own-shell-bash-fd-not-found", "shell", "fd -e py src", SCRIPT_SRC,
         "fd (fd-find) is not installed; bash.",
         {"class": "missing_command", "variant": "bash", "subject": "fd",
          "fix": install_command(apt("fd-find"))},
         tags=["cmd_name_differs"],
         notes="Debian ships fd as the fd-find package (binary fdfind)."),
    case("own-shell-zsh-tree-not-found", "shell", "tree -L 2", SCRIPT_SRC,
         "tree is not installed; zsh.",
         {"class": "missing_command", "variant": "zsh", "subject": "tree",
          "fix": install_command(apt("tree"))},
         shell="zsh"),
    case("own-shell-dash-http-not-found", "shell", "http GET localhost:8000/health",
         SCRIPT_SRC, "httpie is not installed; dash (sh -c).",
         {"class": "missing_command", "variant": "dash", "subject": "http",
          "fix": install_command(apt("httpie"), pip_cmd("httpie"))},
         tags=["cmd_name_differs"], shell="sh",
         notes="The command is http, the package httpie."),
    case("own-shell-bash-script-calls-missing", "shell", "bash scripts/lint.sh",
         file("scripts/lint.sh", """
             #!/bin/bash
             set -e
             echo "linting shell scripts"
             shellcheck scripts/*.sh
             echo "done"
         """),
         "A lint script that calls shellcheck, which is not installed.",
         {"class": "missing_command", "variant": "bash", "subject": "shellcheck",
          "fix": install_command(apt("shellcheck"))},
         notes="The message names the script and line: 'scripts/lint.sh: line 4: shellcheck: "
               "command not found'."),
    case("own-shell-pipeline-missing-exit0", "shell", "cat src/app.py | rg TODO | wc -l",
         SCRIPT_SRC, "ripgrep missing in the middle of a pipeline; wc makes the exit 0.",
         {"class": "missing_command", "variant": "bash", "subject": "rg",
          "fix": install_command(apt("ripgrep"))},
         tags=["tricky", "exit0", "cmd_name_differs"],
         notes="Without pipefail the pipeline's status is wc's (0): Claude Code sees a "
               "success whose output is '0' plus the command-not-found line."),
    case("own-shell-xargs-missing", "shell", "find src -name '*.py' | xargs black --check",
         SCRIPT_SRC, "xargs runs black, which is not installed.",
         {"class": "missing_command", "variant": "xargs", "subject": "black",
          "fix": install_command(pip_cmd("black"))},
         notes="xargs words it 'xargs: black: No such file or directory' and exits 127."),
    case("own-shell-env-missing", "shell", "env DEBUG=1 mytool --serve",
         SCRIPT_SRC, "env(1) cannot find the program it is asked to run.",
         {"class": "missing_command", "variant": "env", "subject": "mytool",
          "fix": {"kind": "install_command",
                  "description": "Install the program that provides mytool."},
          "acceptable_fixes": [report("mytool is not on PATH; no known package provides it.")]},
         notes="'env: ‘mytool’: No such file or directory' (Unicode quotes), exit 127."),
    case("own-shell-env-shebang-ruby", "shell", "./bin/release",
         file("bin/release", """
             #!/usr/bin/env ruby
             puts "releasing"
         """) + "chmod +x bin/release\n",
         "An executable script whose env shebang names ruby, which is not installed.",
         {"class": "missing_command", "variant": "env_shebang", "subject": "ruby",
          "fix": install_command(apt("ruby"))}),
    case("own-shell-pyenv-version-not-selected", "python", "python3.12 -m json.tool data.json",
         file("data.json", '{"a": 1}'),
         "pyenv has 3.12 installed but only 3.11 is selected; python3.12 is a shim.",
         {"class": "missing_command", "variant": "pyenv", "subject": "python3.12",
          "fix": report("python3.12 exists in pyenv version 3.12.1: select it "
                        "(pyenv local 3.11.7 3.12.1) or call it through PYENV_VERSION.")},
         tags=["tricky"],
         notes="The pyenv shim answers 'pyenv: python3.12: command not found' and lists the "
               "versions that have it; installing a package is not the fix."),
    case("own-shell-pyenv-pytest-other-version", "python", "pytest -q",
         file(".python-version", "3.12.1") + file("test_ok.py", """
             def test_ok():
                 assert True
         """),
         "The folder selects CPython 3.12 (pyenv local); pytest is installed only in 3.11.",
         {"class": "missing_command", "variant": "pyenv", "subject": "pytest",
          "fix": install_command(pip_cmd("pytest"))},
         notes="The shim lists 3.11.7 as having pytest; installing pytest into the selected "
               "3.12 is the usual fix."),

    # --- permissions -------------------------------------------------------------------
    case("own-shell-zsh-not-executable", "shell", "./deploy.sh",
         file("deploy.sh", """
             #!/bin/bash
             echo deploying
         """), "A script without the executable bit, run from zsh.",
         {"class": "permission_denied", "variant": "not_executable", "subject": "./deploy.sh",
          "fix": {"kind": "chmod_x", "argv": ["chmod", "+x", "./deploy.sh"]}},
         shell="zsh", notes="zsh: 'zsh:1: permission denied: ./deploy.sh', exit 126."),
    case("own-shell-dash-not-executable", "shell", "./scripts/build.sh --release",
         file("scripts/build.sh", """
             #!/bin/sh
             echo building
         """), "A script without the executable bit, run from sh (dash).",
         {"class": "permission_denied", "variant": "not_executable",
          "subject": "./scripts/build.sh",
          "fix": {"kind": "chmod_x", "argv": ["chmod", "+x", "./scripts/build.sh"]}},
         shell="sh"),
    case("own-shell-redirect-permission-denied", "shell",
         "echo 'build 42' > reports/latest.txt",
         "mkdir -p reports\nchmod 755 reports\n",
         "An unprivileged user writes into a root-owned folder through a redirection.",
         {"class": "permission_denied", "variant": "write", "subject": "reports/latest.txt",
          "fix": report("reports/ is not writable by this user.")},
         user="nobody"),
    case("own-shell-mkdir-permission-denied", "shell", "mkdir -p build/out && echo ok",
         "chmod 755 .\n",
         "An unprivileged user creates a folder in a root-owned project folder.",
         {"class": "permission_denied", "variant": "write", "subject": "build",
          "fix": report("The project folder is not writable by this user.")},
         user="nobody"),

    # --- missing files -----------------------------------------------------------------
    case("own-shell-bash-script-missing", "shell", "bash run_tests.sh",
         file("run-tests.sh", """
             #!/bin/bash
             echo ok
         """),
         "bash is given a script name that does not exist (the file is run-tests.sh).",
         {"class": "file_not_found", "subject": "run_tests.sh",
          "fix": report("run_tests.sh does not exist (did you mean run-tests.sh?)."),
          "wrong_fixes": [{"kind": "install_command"}]},
         tags=["tricky"],
         notes="bash exits 127 for a missing script file, the same status as a missing "
               "command: 'bash: run_tests.sh: No such file or directory'."),
    case("own-shell-dot-slash-missing", "shell", "./configure --prefix=/usr/local",
         file("configure.ac", "AC_INIT([app], [1.0])"),
         "./configure was never generated (only configure.ac exists).",
         {"class": "file_not_found", "subject": "./configure",
          "fix": report("./configure does not exist; generate it (autoreconf -i) first."),
          "wrong_fixes": [{"kind": "install_command"}]},
         tags=["tricky"], notes="Exit 127 with 'No such file or directory'."),
    case("own-shell-cd-missing-dir", "shell", "cd frontend && npm run build",
         file("README.md", "# app"),
         "cd into a folder that does not exist.",
         {"class": "file_not_found", "subject": "frontend",
          "fix": report("There is no frontend/ folder here.")}),
    case("own-shell-ls-missing", "shell", "ls dist/", file("README.md", "# app"),
         "ls of a build output folder that was never built.",
         {"class": "file_not_found", "subject": "dist/",
          "fix": report("dist/ does not exist (not built yet).")}),
    case("own-shell-cp-missing", "shell", "cp config.example.yml config.yml",
         file("config.sample.yml", "debug: true"),
         "cp from a template that does not exist under that name.",
         {"class": "file_not_found", "subject": "config.example.yml",
          "fix": report("config.example.yml does not exist (config.sample.yml does).")}),
    case("own-shell-source-missing", "shell", "source .env && echo \"$API_URL\"",
         file(".env.example", "API_URL=http://localhost:8000"),
         "source of a .env that was never created.",
         {"class": "file_not_found", "subject": ".env",
          "fix": report(".env does not exist; copy .env.example.")}),

    # --- CRLF ----------------------------------------------------------------------------
    case("own-shell-crlf-no-set-e", "shell", "bash build.sh",
         "mkdir -p src\n" + raw("build.sh", b"#!/bin/bash\r\necho \"building\"\r\n\r\n"
                                 b"cd src\r\nls\r\necho done\r\n"),
         "A bash script with CRLF line endings and no `set -e`: every line carries a \\r.",
         {"class": "crlf_line_endings", "subject": "build.sh",
          "fix": {"kind": "convert_line_endings", "argv": ["sed", "-i", "s/\\r$//", "build.sh"]},
          "wrong_fixes": [{"kind": "install_command"}]},
         tags=["tricky", "crlf"],
         notes="\"$'\\r': command not found\" for the blank line, 'cd: $'src\\r': No such file or "
               "directory'; the exit status is that of the last line."),
    case("own-shell-crlf-shebang-exec", "shell", "./deploy.sh",
         raw("deploy.sh", b"#!/bin/bash\r\necho deploying\r\n") + "chmod +x deploy.sh\n",
         "An executable CRLF script run directly: the kernel looks for '/bin/bash\\r'.",
         {"class": "crlf_line_endings", "subject": "./deploy.sh",
          "acceptable_subjects": ["deploy.sh"],
          "fix": {"kind": "convert_line_endings",
                  "argv": ["sed", "-i", "s/\\r$//", "./deploy.sh"]},
          "acceptable_fixes": [{"kind": "convert_line_endings",
                                "argv": ["sed", "-i", "s/\\r$//", "deploy.sh"]}],
          "wrong_fixes": [{"kind": "install_command"}, {"kind": "chmod_x"}]},
         tags=["tricky", "crlf"],
         notes="bash 5.2: 'cannot execute: required file not found', exit 127; nothing in "
               "the output mentions a carriage return: only the file's shebang shows it."),
    case("own-shell-crlf-env-python", "python", "./tools/gen.py",
         raw("tools/gen.py", b"#!/usr/bin/env python3\r\nprint('generated')\r\n")
         + "chmod +x tools/gen.py\n",
         "An executable CRLF Python script with an env shebang.",
         {"class": "crlf_line_endings", "subject": "./tools/gen.py",
          "acceptable_subjects": ["tools/gen.py"],
          "fix": {"kind": "convert_line_endings",
                  "argv": ["sed", "-i", "s/\\r$//", "./tools/gen.py"]},
          "acceptable_fixes": [{"kind": "convert_line_endings",
                                "argv": ["sed", "-i", "s/\\r$//", "tools/gen.py"]}],
          "wrong_fixes": [{"kind": "install_command"}, {"kind": "pip_install"}]},
         tags=["tricky", "crlf"],
         notes="env looks for 'python3\\r': the message carries a raw carriage return "
               "inside the Unicode quotes."),
    case("own-shell-crlf-dash", "shell", "sh setup.sh",
         "mkdir -p out\n" + raw("setup.sh", b"#!/bin/sh\r\nset -eu\r\nmkdir -p out\r\n"
                                 b"echo ready\r\n"),
         "A CRLF script run with sh (dash).",
         {"class": "crlf_line_endings", "subject": "setup.sh",
          "fix": {"kind": "convert_line_endings", "argv": ["sed", "-i", "s/\\r$//", "setup.sh"]},
          "acceptable_classes": ["syntax_error"]},
         tags=["tricky", "crlf"], notes="dash: 'set: Illegal option -' followed by a raw CR."),
    case("own-shell-crlf-zsh", "shell", "zsh tasks.zsh",
         raw("tasks.zsh", b"#!/bin/zsh\r\nname=app\r\nprint \"building $name\"\r\n"
                          b"cd build\r\n"),
         "A CRLF script run with zsh.",
         {"class": "crlf_line_endings", "subject": "tasks.zsh",
          "fix": {"kind": "convert_line_endings", "argv": ["sed", "-i", "s/\\r$//", "tasks.zsh"]},
          "acceptable_classes": ["file_not_found"]},
         tags=["tricky", "crlf"]),

    # --- interrupts and time-outs ----------------------------------------------------------
    case("own-shell-interrupted-bash", "shell",
         "for i in 1 2 3; do echo \"step $i\"; done; kill -INT $$; echo unreachable",
         file("README.md", "# app"),
         "A shell loop that is interrupted with SIGINT (as Ctrl-C would).",
         {"class": "interrupted", "fix": none()},
         notes="The shell dies of SIGINT: exit 130, no message."),
    case("own-shell-timeout-sleep", "shell", "timeout 1 sleep 10", file("README.md", "# app"),
         "timeout(1) stops a command that runs too long.",
         {"class": "timeout",
          "fix": report("The command ran over the 1 s limit; retry with a longer timeout.")},
         tags=["empty_output"], notes="timeout exits 124 and prints nothing."),
    case("own-shell-timeout-server", "python", "timeout 2 python serve.py",
         file("serve.py", """
             import sys, time
             print("Serving on http://127.0.0.1:8000", flush=True)
             while True:
                 time.sleep(0.1)
         """),
         "A development server run under timeout(1): it never exits by itself.",
         {"class": "timeout",
          "fix": report("The server runs until stopped; run it in the background.")},
         notes="Exit 124 with only the server's banner."),
]
