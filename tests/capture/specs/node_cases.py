"""Node 20, npm and tsc, offline: missing packages, local modules, syntax, run-time errors,
node:test failures, npm scripts."""

from _kit import NODE_TOOLS, case, file, loc, report, report_location

LOC_FIX = report_location("Show the file/line/column and the message; fix the code there.")


def package_json(name="app", scripts=None, deps=None, dev=None, module=False):
    import json
    data = {"name": name, "version": "1.0.0", "private": True}
    if module:
        data["type"] = "module"
    if scripts:
        data["scripts"] = scripts
    if deps:
        data["dependencies"] = deps
    if dev:
        data["devDependencies"] = dev
    return file("package.json", json.dumps(data, indent=2), dedent=False)


# typescript copied from a local node_modules (no registry): what `npm install` would leave.
TYPESCRIPT = (f"mkdir -p node_modules/.bin\ncp -r {NODE_TOOLS}/typescript node_modules/\n"
              "ln -s ../typescript/bin/tsc node_modules/.bin/tsc\n")
TSCONFIG = file("tsconfig.json", """
    {
      "compilerOptions": {
        "target": "ES2020",
        "module": "commonjs",
        "strict": true,
        "esModuleInterop": true,
        "noEmit": true
      },
      "include": ["src"]
    }
""")


def npm_install(*packages, dev=False):
    argv = ["npm", "install", *(["--save-dev"] if dev else []), *packages]
    return {"kind": "npm_install", "packages": list(packages), "dev": dev, "argv": argv}


NPM_INSTALL_ALL = {"kind": "npm_install_all", "argv": ["npm", "install"]}

CASES = [
    # --- missing packages ----------------------------------------------------------------
    case("own-node-cjs-undeclared-dayjs", "node", "node report.js",
         package_json() + file("report.js", """
             const dayjs = require('dayjs');

             console.log(dayjs().format('YYYY-MM-DD'));
         """),
         "CommonJS require of a package that is neither declared nor installed.",
         {"class": "missing_node_module", "subject": "dayjs", "fix": npm_install("dayjs")}),
    case("own-node-cjs-declared-not-installed", "node", "node server.js",
         package_json(deps={"express": "^4.19.2"}) + file("server.js", """
             const express = require('express');

             const app = express();
             app.get('/', (req, res) => res.send('ok'));
             app.listen(3000);
         """),
         "express is declared in package.json but node_modules was never installed.",
         {"class": "missing_node_module", "variant": "declared_not_installed",
          "subject": "express", "fix": NPM_INSTALL_ALL,
          "acceptable_fixes": [npm_install("express")]},
         tags=["declared_dependency"]),
    case("own-node-esm-declared-not-installed", "node", "node cli.js",
         package_json(deps={"chalk": "^5.3.0"}, module=True) + file("cli.js", """
             import chalk from 'chalk';

             console.log(chalk.green('ready'));
         """),
         "ESM import of a declared but uninstalled package.",
         {"class": "missing_node_module", "variant": "declared_not_installed",
          "subject": "chalk", "fix": NPM_INSTALL_ALL,
          "acceptable_fixes": [npm_install("chalk")]},
         tags=["declared_dependency"],
         notes="ERR_MODULE_NOT_FOUND: \"Cannot find package 'chalk' imported from …\"."),
    case("own-node-cjs-subpath-lodash", "node", "node merge.js",
         package_json() + file("merge.js", """
             const merge = require('lodash/merge');

             console.log(merge({ a: 1 }, { b: 2 }));
         """),
         "require('lodash/merge') with lodash not installed.",
         {"class": "missing_node_module", "subject": "lodash", "fix": npm_install("lodash"),
          "wrong_fixes": [{"kind": "npm_install", "packages": ["lodash/merge"]}]},
         notes="The specifier is a subpath: the package is lodash."),
    case("own-node-esm-scoped-package", "node", "node release.mjs",
         package_json() + file("release.mjs", """
             import { Octokit } from '@octokit/rest';

             const octokit = new Octokit();
             console.log(typeof octokit);
         """),
         "ESM import of a scoped package that is not installed.",
         {"class": "missing_node_module", "subject": "@octokit/rest",
          "fix": npm_install("@octokit/rest"),
          "wrong_fixes": [{"kind": "npm_install", "packages": ["@octokit"]}]}),
    case("own-node-unknown-builtin", "node", "node read.mjs",
         package_json() + file("read.mjs", """
             import { readFile } from 'node:fs/promise';

             console.log(await readFile('package.json', 'utf8'));
         """),
         "A typo in a node: built-in specifier (fs/promise for fs/promises).",
         {"class": "missing_node_module", "variant": "unknown_builtin",
          "subject": "node:fs/promise",
          "fix": report("No such built-in module: node:fs/promise (did you mean node:fs/promises?)."),
          "wrong_fixes": [{"kind": "npm_install"}]},
         tags=["tricky"]),

    # --- missing local modules / files ------------------------------------------------------
    case("own-node-esm-relative-no-extension", "node", "node src/index.js",
         package_json(module=True) + file("src/index.js", """
             import { slug } from './utils';

             console.log(slug('Hello World'));
         """) + file("src/utils.js", """
             export const slug = (s) => s.toLowerCase().replace(/\\s+/g, '-');
         """),
         "ESM relative import without the .js extension.",
         {"class": "missing_local_module", "subject": "./utils",
          "acceptable_subjects": ["src/utils"],
          "fix": report("ESM needs the extension: import './utils.js'."),
          "wrong_fixes": [{"kind": "npm_install"}]},
         tags=["local_module", "tricky"],
         notes="Node prints only the absolute path it tried (the specifier is lost), and here "
               "no 'Did you mean' hint."),
    case("own-node-cjs-missing-parent-relative", "node", "node src/jobs/cleanup.js",
         package_json() + file("src/jobs/cleanup.js", """
             const db = require('../lib/db');

             db.cleanup();
         """) + file("src/db.js", "module.exports = { cleanup() {} };"),
         "CommonJS require of '../lib/db', which does not exist (db.js is in src/).",
         {"class": "missing_local_module", "subject": "../lib/db",
          "fix": report("../lib/db does not exist relative to src/jobs/cleanup.js."),
          "wrong_fixes": [{"kind": "npm_install"}]},
         tags=["local_module"]),
    case("own-node-script-not-found", "node", "node index.js",
         package_json(scripts={"start": "node server.js"}) + file("server.js",
                                                                  "console.log('up');"),
         "`node index.js` where the entry point is server.js.",
         {"class": "file_not_found", "subject": "index.js",
          "fix": report("index.js does not exist (the start script runs server.js)."),
          "acceptable_classes": ["missing_local_module"],
          "wrong_fixes": [{"kind": "npm_install"}]},
         tags=["tricky"],
         notes="Node reports it as \"Cannot find module '/…/index.js'\" with MODULE_NOT_FOUND."),
    case("own-node-readfile-enoent", "node", "node seed.js",
         package_json() + file("seed.js", """
             const fs = require('fs');

             const users = JSON.parse(fs.readFileSync('data/users.json', 'utf8'));
             console.log(users.length);
         """),
         "fs.readFileSync of a data file that does not exist.",
         {"class": "file_not_found", "subject": "data/users.json",
          "fix": report("data/users.json does not exist.")}),

    # --- syntax errors ------------------------------------------------------------------------
    case("own-node-mjs-syntax-error", "node", "node build.mjs",
         package_json() + file("build.mjs", """
             const files = ['a.js', 'b.js'];

             for (const f of files {
               console.log(f);
             }
         """),
         "A missing ) in an ES module.",
         {"class": "syntax_error", "variant": "javascript", "subject": "build.mjs",
          "fix": LOC_FIX, "location": loc("build.mjs", 3, 23)},
         notes="Node prints file:line and a caret, no column number."),
    case("own-node-check-syntax", "node", "node --check src/app.js",
         package_json() + file("src/app.js", """
             function greet(name) {
               return `hello ${name}`;
             }}

             module.exports = { greet };
         """),
         "`node --check` of a file with an extra closing brace.",
         {"class": "syntax_error", "variant": "javascript", "subject": "src/app.js",
          "fix": LOC_FIX, "location": loc("src/app.js", 3, 2)}),
    case("own-node-cjs-import-statement", "node", "node scripts/migrate.cjs",
         package_json() + file("scripts/migrate.cjs", """
             import fs from 'node:fs';

             console.log(fs.existsSync('db.sqlite'));
         """),
         "An import statement in a .cjs file.",
         {"class": "syntax_error", "variant": "javascript_module_type",
          "subject": "scripts/migrate.cjs",
          "fix": report("A .cjs file is CommonJS: use require() or rename it .mjs."),
          "acceptable_fixes": [report_location("Cannot use import statement outside a module")],
          "location": loc("scripts/migrate.cjs", 1, None)},
         notes="'SyntaxError: Cannot use import statement outside a module'."),
    case("own-node-json-require", "data", "node app.js",
         package_json() + file("app.js", """
             const config = require('./config.json');

             console.log(config.port);
         """) + file("config.json", """
             {
               "port": 8080,
               "host": "localhost"
               "debug": false
             }
         """),
         "require() of a JSON file with a missing comma.",
         {"class": "syntax_error", "variant": "json", "subject": "config.json",
          "fix": report_location("Expected ',' or '}' after property value"),
          "location": loc("config.json", 4, 3)},
         notes="Node gives the absolute file and a character position only; line 4 col 3 is "
               "where that position falls."),
    case("own-node-json-parse-string", "data", "node load.js",
         package_json() + file("load.js", """
             const fs = require('fs');

             const settings = JSON.parse(fs.readFileSync('settings.json', 'utf8'));
             console.log(settings);
         """) + file("settings.json", """
             {
               'theme': 'dark'
             }
         """),
         "JSON.parse of a file that uses single quotes.",
         {"class": "syntax_error", "variant": "json", "subject": "settings.json",
          "fix": report_location("JSON needs double quotes"),
          "location": loc("settings.json", 2, 3)},
         notes="JSON.parse does not know the file: only load.js's line shows it."),
    case("own-npm-ejsonparse", "node", "npm run build",
         file("package.json", """
             {
               "name": "web",
               "version": "1.0.0",
               "scripts": {
                 "build": "node build.js",
               }
             }
         """),
         "npm reads a package.json with a trailing comma.",
         {"class": "syntax_error", "variant": "json", "subject": "package.json",
          "fix": report_location("Trailing comma in package.json"),
          "location": loc("package.json", 6, 3)},
         notes="npm error code EJSONPARSE; npm gives only a position."),

    # --- run-time errors ------------------------------------------------------------------------
    case("own-node-referenceerror", "node", "node totals.js",
         package_json() + file("totals.js", """
             const items = [{ price: 2 }, { price: 3 }];

             const sum = items.reduce((acc, item) => acc + item.price, 0);
             console.log(`total: ${totl}`);
         """),
         "A misspelled variable.",
         {"class": "runtime_error", "variant": "node_ReferenceError", "subject": "totl",
          "acceptable_subjects": ["ReferenceError"],
          "fix": report("totl is not defined"), "location": loc("totals.js", 4, 23)}),
    case("own-node-unhandled-rejection", "node", "node sync.mjs",
         package_json() + file("sync.mjs", """
             async function fetchUsers() {
               throw new Error('upstream returned 503');
             }

             const users = await fetchUsers();
             console.log(users);
         """),
         "An async function rejects and nothing catches it (top-level await).",
         {"class": "runtime_error", "variant": "node_Error",
          "fix": report("upstream returned 503"), "location": loc("sync.mjs", 2, 9)}),
    case("own-node-typeerror-undefined", "node", "node render.js",
         package_json() + file("render.js", """
             const config = {};

             function title(cfg) {
               return cfg.site.title.toUpperCase();
             }

             console.log(title(config));
         """),
         "Reading a property of undefined.",
         {"class": "runtime_error", "variant": "node_TypeError",
          "fix": report("Cannot read properties of undefined (reading 'title')"),
          "location": loc("render.js", 4, 19), "acceptable_classes": ["type_error"]}),

    # --- node:test --------------------------------------------------------------------------------
    case("own-node-test-fail", "node", "node --test",
         package_json() + file("math.js", """
             exports.add = (a, b) => a + b;
             exports.div = (a, b) => Math.floor(a / b);
         """) + file("test/math.test.js", """
             const test = require('node:test');
             const assert = require('node:assert');
             const { add, div } = require('../math');

             test('adds', () => {
               assert.strictEqual(add(2, 2), 4);
             });

             test('divides exactly', () => {
               assert.strictEqual(div(7, 2), 3.5);
             });
         """),
         "node:test with one failing test (TAP reporter without a TTY).",
         {"class": "test_failure", "variant": "node_test",
          "failing_tests": [{"id": "divides exactly", "file": "test/math.test.js",
                             "name": "divides exactly"}],
          "fix": {"kind": "rerun_failed_tests",
                  "argv": ["node", "--test", "--test-name-pattern", "divides exactly"]}}),
    case("own-node-test-describe", "node", "node --test test/",
         package_json() + file("test/cart.test.js", """
             const { describe, it } = require('node:test');
             const assert = require('node:assert/strict');

             describe('cart', () => {
               it('starts empty', () => {
                 assert.deepEqual([], []);
               });
               describe('totals', () => {
                 it('applies the discount', () => {
                   console.log('discount: 10%');
                   assert.equal(90, 100 * 0.85);
                 });
               });
             });
         """),
         "node:test with nested describe blocks and a console.log in the failing test.",
         {"class": "test_failure", "variant": "node_test",
          "failing_tests": [{"id": "applies the discount", "file": "test/cart.test.js",
                             "name": "applies the discount"}],
          "fix": {"kind": "rerun_failed_tests",
                  "argv": ["node", "--test", "--test-name-pattern", "applies the discount",
                           "test/"]}},
         notes="TAP nests the failure two levels deep; 'not ok' appears for the test and "
               "for both enclosing suites."),
    case("own-node-test-spec-color", "node", "node --test --test-reporter=spec",
         package_json() + file("test/str.test.js", """
             const test = require('node:test');
             const assert = require('node:assert');

             test('trims', () => assert.strictEqual(' a '.trim(), 'a'));
             test('pads', () => assert.strictEqual('7'.padStart(3, '0'), '007 '));
         """),
         "node:test's spec reporter with FORCE_COLOR=1.",
         {"class": "test_failure", "variant": "node_test",
          "failing_tests": [{"id": "pads", "file": "test/str.test.js", "name": "pads"}],
          "fix": {"kind": "rerun_failed_tests",
                  "argv": ["node", "--test", "--test-reporter=spec", "--test-name-pattern",
                           "pads"]}},
         env={"FORCE_COLOR": "1"}, tags=["ansi"]),
    case("own-npm-test-node-test-fail", "node", "npm test",
         package_json(scripts={"test": "node --test"}) + file("test/api.test.js", """
             const test = require('node:test');
             const assert = require('node:assert');

             test('status is ok', () => {
               const res = { status: 500 };
               assert.strictEqual(res.status, 200);
             });
         """),
         "`npm test` running node:test with a failure; npm adds its own lines.",
         {"class": "test_failure", "variant": "node_test",
          "failing_tests": [{"id": "status is ok", "file": "test/api.test.js",
                             "name": "status is ok"}],
          "fix": {"kind": "rerun_failed_tests",
                  "argv": ["node", "--test", "--test-name-pattern", "status is ok"]}}),

    # --- npm scripts ------------------------------------------------------------------------------
    case("own-npm-missing-script-typo", "node", "npm run biuld",
         package_json(scripts={"build": "node build.js", "test": "node --test"}),
         "`npm run biuld` (typo for build).",
         {"class": "npm_missing_script", "subject": "biuld",
          "fix": {"kind": "npm_run", "argv": ["npm", "run", "build"]}},
         notes="npm offers no suggestion here; build is the closest script in package.json."),
    case("own-npm-missing-test-script", "node", "npm test",
         package_json(scripts={"start": "node server.js"}),
         "`npm test` in a package with no test script.",
         {"class": "npm_missing_script", "subject": "test",
          "fix": report("package.json has no test script.")}),
    case("own-npm-no-package-json", "node", "npm run dev", file("index.js", "console.log(1)"),
         "`npm run dev` in a folder without package.json.",
         {"class": "file_not_found", "subject": "package.json",
          "fix": report("No package.json here: wrong folder, or npm init first."),
          "acceptable_classes": ["npm_missing_script"]},
         notes="npm error code ENOENT, exit 254."),
    case("own-npm-script-bin-declared-not-installed", "node", "npm run lint",
         package_json(scripts={"lint": "eslint src"}, dev={"eslint": "^9.0.0"})
         + file("src/index.js", "console.log(1);"),
         "The lint script's binary is declared in devDependencies but nothing is installed.",
         {"class": "missing_command", "variant": "npm_script_bin", "subject": "eslint",
          "fix": NPM_INSTALL_ALL, "acceptable_classes": ["missing_node_module"],
          "acceptable_fixes": [npm_install("eslint", dev=True)]},
         tags=["declared_dependency"],
         notes="'sh: 1: eslint: not found', exit 127: run npm install, eslint is declared."),
    case("own-npm-script-runtime-error", "node", "npm run build",
         package_json(scripts={"build": "node build.js"}) + file("build.js", """
             const pages = ['index', 'about'];
             pages.forEach((p) => {
               if (p === 'about') throw new Error(`template for ${p} is missing`);
               console.log(`built ${p}.html`);
             });
         """),
         "The build script throws; npm adds its own lines around node's error.",
         {"class": "runtime_error", "variant": "node_Error",
          "fix": report("template for about is missing"), "location": loc("build.js", 3, 22)},
         notes="The column is the caret under the throw statement (node's 'build.js:3' header); "
               "the first stack frame says 3:28, where the Error object is constructed."),

    # --- TypeScript (tsc from a local node_modules) ---------------------------------------------
    case("own-tsc-ts2345-arg-type", "node", "npx tsc -p .",
         package_json(dev={"typescript": "^5.9.3"}) + TYPESCRIPT + TSCONFIG
         + file("src/price.ts", """
             export function withTax(amount: number, rate: number): number {
               return amount * (1 + rate);
             }

             console.log(withTax("10", 0.2));
         """),
         "tsc: a string passed where a number is expected.",
         {"class": "type_error", "variant": "typescript", "subject": "TS2345",
          "fix": LOC_FIX, "location": loc("src/price.ts", 5, 21)},
         requires=[NODE_TOOLS + "/typescript"]),
    case("own-tsc-ts2307-package", "node", "npx tsc -p .",
         package_json(dev={"typescript": "^5.9.3"}) + TYPESCRIPT + TSCONFIG
         + file("src/server.ts", """
             import express from "express";

             const app = express();
             app.listen(3000);
         """),
         "tsc cannot resolve express, which is neither declared nor installed.",
         {"class": "missing_node_module", "subject": "express",
          "fix": npm_install("express"),
          "acceptable_fixes": [npm_install("express", "@types/express")]},
         requires=[NODE_TOOLS + "/typescript"],
         notes="TS2307: Cannot find module 'express' or its corresponding type declarations."),
    case("own-tsc-ts1128-syntax", "node", "npx tsc --noEmit src/model.ts",
         package_json(dev={"typescript": "^5.9.3"}) + TYPESCRIPT + file("src/model.ts", """
             export interface User {
               id: number;
               name: string;
             }
             }

             export const admin: User = { id: 1, name: "root" };
         """),
         "tsc on one file with a stray closing brace.",
         {"class": "syntax_error", "variant": "typescript", "subject": "src/model.ts",
          "fix": LOC_FIX, "location": loc("src/model.ts", 5, 1)},
         requires=[NODE_TOOLS + "/typescript"]),
    case("own-tsc-ts2339-pretty", "node", "npx tsc -p . --pretty",
         package_json(dev={"typescript": "^5.9.3"}) + TYPESCRIPT + TSCONFIG
         + file("src/user.ts", """
             interface User {
               name: string;
             }

             const u: User = { name: "ada" };
             console.log(u.email);
         """),
         "tsc --pretty: coloured output with a code frame.",
         {"class": "type_error", "variant": "typescript", "subject": "TS2339",
          "fix": LOC_FIX, "location": loc("src/user.ts", 6, 15)},
         tags=["ansi"], requires=[NODE_TOOLS + "/typescript"]),
]
