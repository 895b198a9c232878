/**
 * Prints what a synthesized cloud assembly holds: each stack, its resources by type, and every
 * cdk-nag finding (from the NagReport CSV files the cdk-nag packs write). Exits 1 when a finding
 * is neither fixed nor acknowledged.
 *
 * Usage: ts-node scripts/summarize-cdk-out.ts [cdk.out]
 */
import * as fs from 'fs';
import * as path from 'path';

const outDir = path.resolve(process.argv[2] ?? 'cdk.out');
const manifest = JSON.parse(fs.readFileSync(path.join(outDir, 'manifest.json'), 'utf8'));

let unacknowledged = 0;
for (const [name, artifact] of Object.entries<any>(manifest.artifacts ?? {})) {
  if (artifact.type !== 'aws:cloudformation:stack') continue;
  const template = JSON.parse(fs.readFileSync(path.join(outDir, artifact.properties.templateFile), 'utf8'));
  const byType = new Map<string, number>();
  for (const resource of Object.values<any>(template.Resources ?? {})) {
    byType.set(resource.Type, (byType.get(resource.Type) ?? 0) + 1);
  }
  const total = [...byType.values()].reduce((a, b) => a + b, 0);
  console.log(`\nStack ${name} (${artifact.environment}): ${total} resources`);
  for (const [type, count] of [...byType.entries()].sort()) console.log(`  ${String(count).padStart(3)}  ${type}`);

  for (const report of fs.readdirSync(outDir).filter((f) => f.endsWith(`-${name}-NagReport.csv`))) {
    const rows = parseCsv(fs.readFileSync(path.join(outDir, report), 'utf8'));
    const header = rows.shift() ?? [];
    const col = (label: string) => header.indexOf(label);
    const open = rows.filter((r) => r[col('Compliance')] === 'Non-Compliant');
    const acknowledged = rows.filter((r) => r[col('Compliance')] === 'Suppressed');
    console.log(`  cdk-nag ${report.split('-')[0]}: ${open.length} finding(s), ${acknowledged.length} acknowledged`);
    for (const r of open) {
      unacknowledged++;
      console.log(`    FINDING ${r[col('Rule ID')]} on ${r[col('Resource ID')]}: ${r[col('Rule Info')]}`);
    }
    for (const r of acknowledged) {
      console.log(`    acknowledged ${r[col('Rule ID')]} on ${r[col('Resource ID')]}: ${r[col('Exception Reason')]}`);
    }
  }
}
console.log(`\nCloud assembly: ${outDir}`);
if (unacknowledged > 0) {
  console.error(`${unacknowledged} cdk-nag finding(s) are neither fixed nor acknowledged`);
  process.exit(1);
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') {quoted = false;} else {field += c;}
    } else if (c === '"') {quoted = true;} else if (c === ',') { row.push(field); field = ''; } else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; } else if (c !== '\r') {field += c;}
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}
