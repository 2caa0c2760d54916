/**
 * @module mail/mailer
 * The seam for outgoing email, and the one message this server sends: the sign-in email, which
 * carries both the clickable link and the bare token for pasting into a command-line client.
 */
export interface MailMessage {
  to: string
  subject: string
  text: string
}

export interface Mailer {
  send(message: MailMessage): Promise<void>
  close(): Promise<void>
}

export function loginMail(opts: { to: string; link: string; token: string; ttlMinutes: number }): MailMessage {
  return {
    to: opts.to,
    subject: 'Your mcprag sign-in link',
    text: [
      'Someone (hopefully you) asked to sign in to mcprag with this address.',
      '',
      `Open this link to sign in (valid ${opts.ttlMinutes} minutes, usable once):`,
      opts.link,
      '',
      'Or paste this token into a command-line client:',
      opts.token,
      '',
      'If you did not ask to sign in, ignore this email: nothing happens without the link.',
      '',
    ].join('\n'),
  }
}
