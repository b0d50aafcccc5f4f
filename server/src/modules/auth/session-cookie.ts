import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/index.ts';

export const SESSION_COOKIE = 'sf_session';

type CookieConfig = Pick<Readonly<Config>, 'PUBLIC_API_URL' | 'SESSION_IDLE_TTL_SECONDS'>;

/** Secure whenever the browser reached us over HTTPS, directly or through the tunnel's public URL. */
function secure(request: FastifyRequest, config: CookieConfig): boolean {
  return request.protocol === 'https' || config.PUBLIC_API_URL.startsWith('https:');
}

/**
 * httpOnly (scripts cannot read it), SameSite=Lax (not sent on cross-site subrequests or posts), path /
 * (the API and the apps served by it). Its Max-Age follows the sliding idle expiry and is re-sent
 * whenever the server extends the session.
 */
export function setSessionCookie(reply: FastifyReply, request: FastifyRequest, config: CookieConfig, value: string, expiresAt: Date): void {
  const maxAge = Math.max(0, Math.min(config.SESSION_IDLE_TTL_SECONDS, Math.ceil((expiresAt.getTime() - Date.now()) / 1000)));
  void reply.setCookie(SESSION_COOKIE, value, { httpOnly: true, sameSite: 'lax', secure: secure(request, config), path: '/', maxAge });
}

export function clearSessionCookie(reply: FastifyReply, request: FastifyRequest, config: CookieConfig): void {
  void reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: secure(request, config), path: '/' });
}
