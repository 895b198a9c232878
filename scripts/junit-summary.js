#!/usr/bin/env node
// Prints "N passed, N failed, N skipped" over jest-junit's reports (every file given, default
// test-reports/junit.xml); exits 1 when nothing ran.
const fs = require('fs');
const files = process.argv.length > 2 ? process.argv.slice(2) : ['test-reports/junit.xml'];
let tests = 0;
let failed = 0;
let skipped = 0;
for (const file of files) {
  const xml = fs.readFileSync(file, 'utf8');
  const attr = (name) => Number((xml.match(new RegExp(`<testsuites[^>]*\\s${name}="(\\d+)"`)) || [])[1] || 0);
  tests += attr('tests');
  failed += attr('failures') + attr('errors');
  skipped += (xml.match(/<skipped/g) || []).length;
}
console.log(`${tests - failed - skipped} passed, ${failed} failed, ${skipped} skipped`);
if (tests === 0) process.exit(1);
