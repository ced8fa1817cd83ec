// Loaded with `node --import` by bench/e2e.ts: at exit, the process's peak
// resident set size (worker threads included) as one line on stderr.
import { writeSync } from 'node:fs';

process.on('exit', () => writeSync(2, `xyn-peak-rss-kib: ${process.resourceUsage().maxRSS}\n`));
