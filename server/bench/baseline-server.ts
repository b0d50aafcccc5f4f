// The baseline for bench/api.ts and bench/preference-center.ts: a bare Fastify app with plain `pg`, no
// auth, no validation, no framework of ours. The write is the naive version — one transaction, one
// statement per table row — and the reads are the same queries our API would run done the plain way.
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_MAX ?? 10) });
const organizationId = process.env.BASELINE_ORGANIZATION_ID!;
const app = Fastify({ logger: false, routerOptions: { maxParamLength: 2048 } });

app.post<{ Body: { email: string; tags: string[] } }>('/baseline/subscribers', async (request, reply) => {
  const { email, tags } = request.body;
  const client = await pool.connect();
  try {
    await client.query('begin');
    const subscriber = await client.query(
      `insert into subscribers (id, organization_id, email, status, confirmed_at) values ($1, $2, $3, 'active', now())
       returning id, email, status, first_name, last_name, metadata, source, confirmed_at, unsubscribed_at, created_at, updated_at`,
      [randomUUID(), organizationId, email],
    );
    const id = subscriber.rows[0].id as string;
    await client.query(`insert into subscription_history (id, organization_id, subscriber_id, action, source) values ($1, $2, $3, 'created', 'api')`, [
      randomUUID(),
      organizationId,
      id,
    ]);
    await client.query(`insert into events (id, organization_id, type, subject_id, payload) values ($1, $2, 'subscriber.created', $3, $4)`, [
      randomUUID(),
      organizationId,
      id,
      JSON.stringify({ subscriber: { id, email } }),
    ]);
    const linked = [];
    for (const name of tags) {
      await client.query(`insert into tags (id, organization_id, name, slug) values ($1, $2, $3, $3) on conflict do nothing`, [
        randomUUID(),
        organizationId,
        name,
      ]);
      const tag = await client.query(`select id, name, slug from tags where organization_id = $1 and slug = $2`, [organizationId, name]);
      await client.query(
        `insert into subscriber_tags (subscriber_id, tag_id, organization_id, status, source, subscribed_at) values ($1, $2, $3, 'subscribed', 'api', now())`,
        [id, tag.rows[0].id, organizationId],
      );
      await client.query(
        `insert into subscription_history (id, organization_id, subscriber_id, tag_id, action, source) values ($1, $2, $3, $4, 'tag_subscribed', 'api')`,
        [randomUUID(), organizationId, id, tag.rows[0].id],
      );
      await client.query(`insert into events (id, organization_id, type, subject_id, payload) values ($1, $2, 'tag.subscribed', $3, $4)`, [
        randomUUID(),
        organizationId,
        id,
        JSON.stringify({ subscriber: { id, email }, tag: tag.rows[0] }),
      ]);
      linked.push(tag.rows[0]);
    }
    await client.query('commit');
    return reply.code(201).send({ ...subscriber.rows[0], tags: linked });
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
});

app.get<{ Params: { id: string } }>('/baseline/subscribers/:id', async (request, reply) => {
  const result = await pool.query(
    `select id, email, status, first_name, last_name, metadata, source, confirmed_at, unsubscribed_at, created_at, updated_at,
       coalesce((select json_agg(json_build_object('id', t.id, 'name', t.name, 'slug', t.slug) order by t.name)
                 from subscriber_tags st join tags t on t.id = st.tag_id
                 where st.subscriber_id = subscribers.id and st.status = 'subscribed'), '[]'::json) as tags
     from subscribers where organization_id = $1 and id = $2`,
    [organizationId, request.params.id],
  );
  if (result.rowCount === 0) return reply.code(404).send({ error: 'not found' });
  return result.rows[0];
});

// The preference page's read done the plain way: one statement that builds the whole page in SQL,
// no link to check, no limits, no hooks.
app.get<{ Params: { organization: string; subscriber: string } }>('/baseline/preference-center/:organization/:subscriber', async (request, reply) => {
  const result = await pool.query(
    `select s.email, s.first_name, s.status,
       json_build_object('name', o.name, 'slug', o.slug, 'locale', o.locale, 'preference_center', o.preference_center) as organization,
       coalesce((select json_agg(json_build_object('id', t.id, 'name', t.name, 'description', t.description, 'category', t.category,
                   'is_subscribed', coalesce(st.status = 'subscribed', false)) order by t.category nulls last, lower(t.name))
                 from tags t left join subscriber_tags st on st.tag_id = t.id and st.subscriber_id = s.id
                 where t.organization_id = s.organization_id and t.is_public), '[]'::json) as tags
     from subscribers s join organizations o on o.id = s.organization_id
     where s.organization_id = $1 and s.id = $2`,
    [request.params.organization, request.params.subscriber],
  );
  if (result.rowCount === 0) return reply.code(404).send({ error: 'not found' });
  return result.rows[0];
});

// The tracked link's redirect, bare: the address read from the token, no signature check, nothing recorded.
app.get<{ Params: { token: string } }>('/baseline/t/c/:token', async (request, reply) => {
  const claims = JSON.parse(Buffer.from(request.params.token.split('.')[0]!, 'base64url').toString('utf8')) as { x: { u: string } };
  return reply.redirect(claims.x.u, 302);
});

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
process.send?.('ready');
process.once('SIGTERM', () => {
  void app
    .close()
    .then(() => pool.end())
    .then(() => process.exit(0));
});
