/**
 * @module mail/console-mailer
 * Development mail: without `SMTP_URL`, sign-in emails are printed to the console (link and token),
 * so `bun run dev` works on a machine with no mail server.
 */
import type { MailMessage, Mailer } from './mailer.ts'

export class ConsoleMailer implements Mailer {
  readonly #write: (text: string) => void

  constructor(write: (text: string) => void = (t) => console.log(t)) {
    this.#write = write
  }

  async send(m: MailMessage): Promise<void> {
    this.#write(`--- mail to ${m.to} (SMTP_URL is not set, so it is printed here) ---\nSubject: ${m.subject}\n\n${m.text}--- end of mail ---`)
  }

  async close(): Promise<void> {}
}
