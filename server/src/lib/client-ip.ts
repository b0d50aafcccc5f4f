import type { FastifyRequest } from 'fastify';

/** The client's address: Cloudflare's header only when the operator says the tunnel is the only way in. */
export function clientIp(request: FastifyRequest, trustCfConnectingIp: boolean): string {
  if (trustCfConnectingIp) {
    const header = request.headers['cf-connecting-ip'];
    if (typeof header === 'string' && header.length > 0 && header.length <= 64) return header;
  }
  return request.ip;
}
