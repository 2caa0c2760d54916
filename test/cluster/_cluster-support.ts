/** Cluster tests need redis-server and nginx on this machine (`.ci/run` installs nginx-light). */
const has = (cmd: string) => Bun.spawnSync(['sh', '-c', `command -v ${cmd}`]).exitCode === 0

export const canRunCluster = has('redis-server') && has('redis-cli') && has('nginx')
if (!canRunCluster) console.warn('[cluster] skipped: redis-server, redis-cli and nginx are needed (apt-get install redis-server nginx-light)')

/** The text of a tool result's first content item. */
export const textOf = (r: unknown) => ((r as { content: { text: string }[] }).content[0]!.text)
