// The program-style sample the shim tests run (nothing exported: the original Granda's scripts).
const { spawn } = require('child_process');

const arg = process.argv[2];
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', () => {
  const data = Buffer.concat(chunks);
  if (arg === undefined) {
    process.stdout.write(data); // no argument: the payload came on stdin only
  } else if (arg === 'fail') {
    process.stdout.write('partial\n');
    process.stderr.write('something broke\n', () => process.exit(3));
  } else if (arg === 'sleep') {
    setTimeout(() => {}, 30000);
  } else if (arg === 'leave') {
    spawn('sleep', ['30'], { stdio: 'inherit' }).unref(); // keeps stdout open after this process exits
    console.log('left');
  } else if (arg === 'env') {
    const e = process.env;
    console.log(`${e.GRANDA_METHOD} ${e.GRANDA_PATH} ${e.GRANDA_QUERY} ${e.GRANDA_SOCKET || 'nosocket'}`);
  } else {
    console.log(`arg=${arg.slice(0, 20)} stdin=${data.subarray(0, 20)}`);
  }
});
