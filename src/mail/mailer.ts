/**
 * @module mail/mailer
 * The seam for outgoing email, and the messages this server sends: the sign-in email, which
 * carries both the clickable link and the bare token for pasting into a command-line client, and
 * the code that lets an account enrol its first authenticator.
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

export function enrolmentMail(opts: { to: string; code: string; ttlMinutes: number }): MailMessage {
  return {
    to: opts.to,
    subject: 'Your mcprag authenticator enrolment code',
    text: [
      'Someone signed in as you (hopefully you) asked to enrol an authenticator app for mcprag.',
      '',
      `Send this code with the enrolment request (valid ${opts.ttlMinutes} minutes, usable once, only from the session that asked):`,
      opts.code,
      '',
      'If you did not ask for it, ignore this email and sign out everywhere: someone holds a token of yours.',
      '',
    ].join('\n'),
  }
}
