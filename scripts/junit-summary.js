#!/usr/bin/env node
// Prints "N passed, N failed, N skipped" from jest-junit's report; exits 1 when nothing ran.
const fs = require('fs');
const xml = fs.readFileSync(process.argv[2] || 'test-reports/junit.xml', 'utf8');
const attr = (name) => Number((xml.match(new RegExp(`<testsuites[^>]*\\s${name}="(\\d+)"`)) || [])[1] || 0);
const tests = attr('tests');
const failed = attr('failures') + attr('errors');
const skipped = (xml.match(/<skipped/g) || []).length;
console.log(`${tests - failed - skipped} passed, ${failed} failed, ${skipped} skipped`);
if (tests === 0) process.exit(1);
