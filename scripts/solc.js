// Standard-JSON in on stdin, standard-JSON out on stdout, through solcjs (no native binary).
const solc = require('solc');
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  if (process.argv.includes('--version')) { process.stdout.write(solc.version()); return; }
  process.stdout.write(solc.compile(input));
});
