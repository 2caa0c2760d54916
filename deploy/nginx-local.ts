/**
 * @module deploy/nginx-local
 * The proxy of compose.yaml, runnable on one machine: the cluster tests and the benchmark render
 * deploy/nginx.conf with this, so what they measure and check is what the deployment runs.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * deploy/nginx.conf (what compose runs) made to run here: on loopback, as this user, every path
 * under `dir`, the upstream listing the instances' ports instead of Docker's DNS name (Debian's
 * nginx 1.22 has no `resolve`). Every proxy setting is the deployment's own, byte for byte.
 */
export function localNginxConfig(o: { dir: string; listen: number; upstreams: number[] }): string {
  const deploy = readFileSync(join(import.meta.dir, 'nginx.conf'), 'utf8')
  const lines: string[] = []
  for (const line of deploy.split('\n')) {
    const t = line.trim()
    if (t.startsWith('resolver ') || t.startsWith('zone ') || t.startsWith('worker_processes')) continue
    if (t.startsWith('server mcprag:')) {
      for (const p of o.upstreams) lines.push(`    server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`)
      continue
    }
    if (t === 'listen 80;') lines.push(`    listen 127.0.0.1:${o.listen};`)
    else lines.push(line)
    if (t.startsWith('http {'))
      lines.push(
        '  access_log off;',
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((d) => `  ${d}_temp_path ${o.dir}/${d};`),
      )
  }
  const head = ['daemon off;', 'worker_processes 1;', process.getuid?.() === 0 ? 'user root;' : '', `pid ${o.dir}/nginx.pid;`, `error_log ${o.dir}/error.log warn;`]
  return [...head, ...lines].join('\n')
}
