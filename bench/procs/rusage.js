// Preloaded (`node -r`) into every measured child process, ours and the baseline's alike: at exit it
// writes the process's own peak memory and CPU time to $BENCH_RUSAGE_FILE, so the parent needs no
// /usr/bin/time. maxRSS is getrusage(RUSAGE_SELF).ru_maxrss, the figure `time -v` reports.
'use strict';
const fs = require('fs');

const file = process.env.BENCH_RUSAGE_FILE;
if (file) {
  process.on('exit', (code) => {
    const u = process.resourceUsage();
    const marks = globalThis.__benchMarks || {};
    fs.writeFileSync(file, JSON.stringify({
      code,
      maxRssKiB: u.maxRSS,
      userMs: u.userCPUTime / 1000,
      systemMs: u.systemCPUTime / 1000,
      uptimeMs: process.uptime() * 1000,
      marks,
    }));
  });
}
