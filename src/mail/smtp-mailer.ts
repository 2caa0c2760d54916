/**
 * @module mail/smtp-mailer
 * Mail over SMTP with nodemailer, configured by one URL (`SMTP_URL`, e.g.
 * `smtps://user:pass@smtp.example.com:465` or `smtp://127.0.0.1:2525`).
 */
import nodemailer, { type Transporter } from 'nodemailer'
import type { MailMessage, Mailer } from './mailer.ts'

export class SmtpMailer implements Mailer {
  readonly #transport: Transporter
  readonly #from: string

  constructor(url: string, from: string) {
    this.#transport = nodemailer.createTransport(url)
    this.#from = from
  }

  async send(m: MailMessage): Promise<void> {
    await this.#transport.sendMail({ from: this.#from, to: m.to, subject: m.subject, text: m.text })
  }

  async close(): Promise<void> {
    this.#transport.close()
  }
}
