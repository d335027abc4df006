process.stderr.write('keepalived-agent: not built yet\n'); process.exit(2);
