/**
 * A real SMTP server on a loopback port (npm `smtp-server`) that keeps every message it receives,
 * so tests can read the sign-in emails the server sends over SMTP.
 */
import { SMTPServer } from 'smtp-server'

export interface ReceivedMail {
  to: string[]
  raw: string
}

export interface TestSmtp {
  url: string
  mails: ReceivedMail[]
  /** Messages to an address, oldest first. */
  to(address: string): ReceivedMail[]
  /** Wait for the `n`-th message (1-based) to an address. */
  waitFor(address: string, n?: number, ms?: number): Promise<ReceivedMail>
  stop(): Promise<void>
}

export async function startSmtp(): Promise<TestSmtp> {
  const mails: ReceivedMail[] = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()), raw: Buffer.concat(chunks).toString('utf8') })
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.server.address() as { port: number }).port
  const to = (address: string) => mails.filter((m) => m.to.includes(address.toLowerCase()))
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    to,
    async waitFor(address, n = 1, ms = 5000) {
      const deadline = Date.now() + ms
      while (to(address).length < n) {
        if (Date.now() > deadline) throw new Error(`no mail #${n} to ${address} within ${ms} ms`)
        await Bun.sleep(10)
      }
      return to(address)[n - 1]!
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** The bare token and the link from a sign-in email (quoted-printable soft breaks undone). */
export function parseLoginMail(mail: ReceivedMail): { token: string; link: string } {
  const body = mail.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=')
  const link = /(https?:\/\/\S+\/(?:auth\/sign-in|oauth\/email)\?\S*token=[A-Za-z0-9_-]+)/.exec(body)?.[1]
  const token = /paste this token into a command-line client:\r?\n([A-Za-z0-9_-]{43})\r?\n/.exec(body)?.[1]
  if (!link || !token) throw new Error(`not a sign-in email:\n${body}`)
  return { token, link }
}

/** The code from an authenticator enrolment email. */
export function parseEnrolmentMail(mail: ReceivedMail): string {
  const body = mail.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=')
  const code = /\n(enr_[A-Za-z0-9_-]{43})\r?\n/.exec(body)?.[1]
  if (!code) throw new Error(`not an enrolment email:\n${body}`)
  return code
}
