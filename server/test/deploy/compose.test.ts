import { describe, expect, it } from 'vitest';
import {
  type ComposeService,
  InterpolationError,
  allStrings,
  commandOf,
  envExampleValues,
  healthcheckCommand,
  loadCompose,
  placeholderSecrets,
  readDockerfile,
  readEnvExample,
  readText,
  readYaml,
  references,
  serviceEnvironment,
  serviceNetworks,
} from './helpers.ts';

// Static checks of compose.yaml: there is no Docker engine in development or CI test jobs, so the rules
// of the production stack are asserted on the parsed file (CI also runs `docker compose config`).

const compose = loadCompose();
const services = compose.services;
const names = Object.keys(services);
const service = (name: string): ComposeService => {
  const found = services[name];
  if (!found) throw new Error(`compose.yaml has no service ${name}`);
  return found;
};

const serverProcesses = ['api', 'worker', 'cron'];
const oneShot = ['migrate'];
const longRunning = names.filter((name) => !oneShot.includes(name));

describe('compose.yaml', () => {
  it('defines the services of the stack', () => {
    expect(names.sort()).toEqual(['api', 'backup', 'cloudflared', 'cron', 'migrate', 'postgres', 'redis', 'worker']);
  });

  describe('reachability', () => {
    it('publishes no port on any service', () => {
      for (const name of names) expect(service(name).ports, `${name} publishes ports`).toBeUndefined();
    });

    it('uses no host networking, privileged mode or container_name', () => {
      for (const name of names) {
        const s = service(name);
        expect(s.container_name, `${name} container_name`).toBeUndefined();
        expect(s.network_mode, `${name} network_mode`).toBeUndefined();
        expect(s.privileged ?? false, `${name} privileged`).toBe(false);
      }
    });

    it('makes the data network internal and leaves edge with egress', () => {
      expect(compose.networks?.data?.internal).toBe(true);
      expect(compose.networks?.edge?.internal ?? false).toBe(false);
      expect(Object.keys(compose.networks ?? {}).sort()).toEqual(['data', 'edge']);
    });

    it('keeps postgres, redis, migrate and backup on the internal network only', () => {
      for (const name of ['postgres', 'redis', 'migrate', 'backup']) expect(serviceNetworks(service(name)), name).toEqual(['data']);
    });

    it('puts the server processes on both networks and cloudflared on edge only', () => {
      for (const name of serverProcesses) expect(serviceNetworks(service(name)).sort(), name).toEqual(['data', 'edge']);
      expect(serviceNetworks(service('cloudflared'))).toEqual(['edge']);
    });

    it('attaches every service to a declared network', () => {
      const declared = Object.keys(compose.networks ?? {});
      for (const name of names) for (const network of serviceNetworks(service(name))) expect(declared, `${name} -> ${network}`).toContain(network);
    });
  });

  describe('images', () => {
    it('pins every image to a version, never latest', () => {
      for (const name of names) {
        const image = service(name).image;
        expect(image, `${name} has no image`).toBeTruthy();
        const tag = /:([^/:@]+)$/.exec(image ?? '')?.[1];
        expect(tag, `${name} image ${image} has no tag`).toBeTruthy();
        expect(tag, `${name} image ${image}`).not.toBe('latest');
        if (service(name).build === undefined) expect(tag, `${name} image ${image} is not a version`).toMatch(/\d/);
      }
    });

    it('builds only stages that the Dockerfile defines', () => {
      const stages = readDockerfile().stages.map((s) => s.name);
      for (const name of names) {
        const build = service(name).build;
        if (build === undefined) continue;
        expect(typeof build, `${name} build`).toBe('object');
        if (typeof build !== 'object') continue;
        expect(build.context ?? '.', name).toBe('.');
        expect(stages, `${name} build target`).toContain(build.target);
      }
    });

    it('runs the four server commands from one image', () => {
      const images = new Set([...serverProcesses, ...oneShot].map((name) => service(name).image));
      expect(images.size).toBe(1);
      for (const name of [...serverProcesses, ...oneShot]) {
        const command = commandOf(service(name)) as string[];
        expect(command[0], name).toBe('node');
        expect(command.at(-1), name).toBe(`server/dist/entrypoints/${name}.js`);
        // Only V8 memory settings may sit between node and the entry point.
        for (const flag of command.slice(1, -1)) expect(flag, name).toMatch(/^--max-(semi|old)-space-size=\d+$/);
      }
    });

    it('backs up with the pg_dump of the database major version', () => {
      const backupStage = readDockerfile().stages.find((s) => s.name === 'backup');
      expect(backupStage?.from).toBe(service('postgres').image);
      expect(service('postgres').image).toMatch(/^postgres:(16|17)([.-]|$)/);
    });
  });

  describe('health and start order', () => {
    it('gives every long-running service a healthcheck', () => {
      for (const name of longRunning) {
        const check = service(name).healthcheck;
        expect(check?.disable ?? false, `${name} healthcheck disabled`).toBe(false);
        expect(healthcheckCommand(service(name)), `${name} healthcheck`).not.toBe('');
        expect(check?.interval, `${name} interval`).toBeTruthy();
        expect(check?.timeout, `${name} timeout`).toBeTruthy();
        expect(check?.retries, `${name} retries`).toBeGreaterThan(0);
      }
    });

    it('needs no curl or wget in any healthcheck', () => {
      for (const name of names) expect(healthcheckCommand(service(name)), name).not.toMatch(/\b(curl|wget)\b/);
    });

    it('probes the api on its port and the worker and cron on their metrics port with node fetch', () => {
      const api = serviceEnvironment(service('api'));
      expect(healthcheckCommand(service('api'))).toContain(`fetch('http://127.0.0.1:${api.PORT}/health')`);
      for (const name of ['worker', 'cron']) {
        const env = serviceEnvironment(service(name));
        expect(env.METRICS_PORT, name).toBeTruthy();
        expect(healthcheckCommand(service(name)), name).toContain(`fetch('http://127.0.0.1:${env.METRICS_PORT}/health')`);
      }
      for (const name of serverProcesses) expect(healthcheckCommand(service(name)), name).toMatch(/^CMD node -e /);
    });

    it('checks the tunnel with cloudflared tunnel ready against its own metrics address', () => {
      const env = serviceEnvironment(service('cloudflared'));
      expect(env.TUNNEL_METRICS).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(service('cloudflared').healthcheck?.test).toEqual(['CMD', 'cloudflared', 'tunnel', '--metrics', env.TUNNEL_METRICS, 'ready']);
      expect(commandOf(service('cloudflared'))).toEqual(['tunnel', 'run']);
    });

    it('checks postgres with pg_isready and redis with a ping', () => {
      expect(healthcheckCommand(service('postgres'))).toContain('pg_isready');
      expect(healthcheckCommand(service('redis'))).toContain('redis-cli ping');
    });

    it('writes every depends_on in long form with a condition on an existing service', () => {
      const conditions = ['service_started', 'service_healthy', 'service_completed_successfully'];
      for (const name of names) {
        const dependsOn = service(name).depends_on;
        if (dependsOn === undefined) continue;
        expect(Array.isArray(dependsOn), `${name} depends_on is a list without conditions`).toBe(false);
        for (const [dependency, spec] of Object.entries(dependsOn)) {
          expect(names, `${name} depends on ${dependency}`).toContain(dependency);
          expect(conditions, `${name} -> ${dependency}`).toContain(spec.condition);
          if (spec.condition === 'service_healthy') expect(service(dependency).healthcheck?.disable ?? false, `${dependency} has no healthcheck`).toBe(false);
        }
      }
    });

    it('starts the server processes only after migrate succeeded and postgres and redis are healthy', () => {
      for (const name of serverProcesses) {
        expect(service(name).depends_on, name).toMatchObject({
          migrate: { condition: 'service_completed_successfully' },
          postgres: { condition: 'service_healthy' },
          redis: { condition: 'service_healthy' },
        });
      }
      expect(service('migrate').depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
      expect(service('cloudflared').depends_on).toMatchObject({ api: { condition: 'service_healthy' } });
      expect(service('backup').depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
    });

    it('runs migrate once and restarts everything else, each with a stop grace period', () => {
      expect(service('migrate').restart).toBe('no');
      for (const name of longRunning) {
        expect(service(name).restart, name).toBe('unless-stopped');
        expect(service(name).stop_grace_period, `${name} stop_grace_period`).toMatch(/^\d+(s|m)$/);
      }
    });
  });

  describe('state', () => {
    it('keeps data in named volumes and bind-mounts nothing from the host', () => {
      const declared = Object.keys(compose.volumes ?? {});
      for (const name of names) {
        for (const volume of service(name).volumes ?? []) {
          const source = typeof volume === 'string' ? volume.split(':')[0] : (volume as { source?: string }).source;
          expect(source, `${name} mounts ${String(source)}`).not.toMatch(/^[./~]/);
          expect(declared, `${name} volume ${String(source)}`).toContain(source);
        }
      }
      expect(service('postgres').volumes).toContain('postgres-data:/var/lib/postgresql/data');
      expect(service('redis').volumes).toContain('redis-data:/data');
      expect(service('backup').volumes).toContain('backups:/backups');
    });

    it('runs redis with AOF on and noeviction, as BullMQ requires', () => {
      const command = commandOf(service('redis')).join(' ');
      expect(command).toContain('--appendonly yes');
      expect(command).toContain('--maxmemory-policy noeviction');
    });

    it('backs up daily with a 7-day retention by default', () => {
      const env = serviceEnvironment(service('backup'));
      expect(env.BACKUP_RETENTION_DAYS).toBe('7');
      expect(env.BACKUP_AT).toMatch(/^\d{2}:\d{2}$/);
      expect(env.BACKUP_DIR).toBe('/backups');
      expect(commandOf(service('backup'))).toEqual(['--schedule']);
    });
  });

  describe('environment', () => {
    const envOf = (name: string) => serviceEnvironment(service(name));

    it('uses no env_file, which would hand every variable to every container', () => {
      for (const name of names) expect(service(name).env_file, name).toBeUndefined();
    });

    it('hands the tunnel token to cloudflared only', () => {
      for (const name of names) {
        if (name === 'cloudflared') expect(envOf(name)).toHaveProperty('TUNNEL_TOKEN');
        else expect(envOf(name), name).not.toHaveProperty('TUNNEL_TOKEN');
      }
      expect(Object.keys(envOf('cloudflared')).every((key) => key.startsWith('TUNNEL_'))).toBe(true);
    });

    it('keeps provider keys and signing secrets away from the services that do not use them', () => {
      const secrets = [
        'STRIPE_SECRET_KEY',
        'STRIPE_WEBHOOK_SECRET',
        'RESEND_API_KEY',
        'RESEND_WEBHOOK_SECRET',
        'BOUNCE_WEBHOOK_SECRET',
        'SMTP_URL',
        'TOKEN_SECRET',
        'SENTRY_DSN',
      ];
      for (const name of ['cloudflared', 'postgres', 'redis', 'backup', 'migrate', 'cron']) {
        for (const secret of secrets) {
          if (name === 'cron' && secret === 'SENTRY_DSN') continue;
          expect(envOf(name), `${name} gets ${secret}`).not.toHaveProperty(secret);
        }
      }
    });

    it('gives the webhook signing secrets to the api only', () => {
      for (const name of names) {
        for (const secret of ['RESEND_WEBHOOK_SECRET', 'BOUNCE_WEBHOOK_SECRET']) {
          if (name === 'api') expect(envOf(name)).toHaveProperty(secret);
          else expect(envOf(name), `${name} gets ${secret}`).not.toHaveProperty(secret);
        }
      }
    });

    it('gives the database password only to postgres and the backup (others get it inside DATABASE_URL)', () => {
      for (const name of names) {
        const has = 'POSTGRES_PASSWORD' in envOf(name) || 'PGPASSWORD' in envOf(name);
        expect(has, name).toBe(name === 'postgres' || name === 'backup');
      }
    });

    it('gives the server processes only variables documented in .env.example', () => {
      const documented = new Set(readEnvExample().map((entry) => entry.name));
      for (const name of [...serverProcesses, ...oneShot]) {
        for (const key of Object.keys(envOf(name))) expect(documented.has(key), `${name}: ${key} is not in .env.example`).toBe(true);
      }
    });

    it('connects the server processes to the compose postgres and redis', () => {
      for (const name of [...serverProcesses, ...oneShot]) {
        expect(envOf(name).DATABASE_URL, name).toBe(`postgres://subscribeflow:${placeholderSecrets.POSTGRES_PASSWORD}@postgres:5432/subscribeflow`);
        if (name !== 'migrate') expect(envOf(name).REDIS_URL, name).toBe('redis://redis:6379');
      }
      expect(envOf('postgres')).toMatchObject({ POSTGRES_USER: 'subscribeflow', POSTGRES_DB: 'subscribeflow' });
      expect(envOf('backup')).toMatchObject({ PGHOST: 'postgres', PGUSER: 'subscribeflow', PGDATABASE: 'subscribeflow' });
    });

    it('gives migrate nothing but its database and log level', () => {
      expect(Object.keys(envOf('migrate')).sort()).toEqual(['DATABASE_URL', 'LOG_LEVEL']);
    });

    it('makes the api listen on all interfaces at the port the tunnel routes to', () => {
      expect(envOf('api').HOST).toBe('0.0.0.0');
      expect(envOf('api').PORT).toBe('3000');
      expect(service('api').expose).toEqual(['3000']);
    });

    it('trusts the tunnel hop and cf-connecting-ip in the api', () => {
      expect(envOf('api')).toMatchObject({ TRUST_PROXY: '1', TRUST_CF_CONNECTING_IP: 'true' });
    });

    it('documents every variable it interpolates in .env.example, with the same defaults', () => {
      const active = new Map(
        readEnvExample()
          .filter((e) => e.active)
          .map((e) => [e.name, e.value]),
      );
      for (const ref of allStrings(readYaml('compose.yaml')).flatMap(references)) {
        expect(active.has(ref.name), `${ref.name} is interpolated but not an active line of .env.example`).toBe(true);
        if (ref.operator === ':-' && ref.argument !== '' && active.get(ref.name) !== '')
          expect(active.get(ref.name), `default of ${ref.name}`).toBe(ref.argument);
      }
    });

    it('refuses to start without the database password, the token secret or the public URLs', () => {
      const values = { ...envExampleValues(), ...placeholderSecrets };
      for (const required of ['POSTGRES_PASSWORD', 'TOKEN_SECRET', 'PUBLIC_API_URL', 'ADMIN_APP_URL', 'PREFERENCES_APP_URL']) {
        expect(() => loadCompose('compose.yaml', { ...values, [required]: '' }), required).toThrow(InterpolationError);
      }
    });
  });
});

describe('compose.dev.yaml', () => {
  const dev = readYaml('compose.dev.yaml') as { services: Record<string, ComposeService>; networks?: Record<string, { internal?: boolean }> };

  it('publishes ports on 127.0.0.1 only, and says so', () => {
    let published = 0;
    for (const [name, s] of Object.entries(dev.services)) {
      for (const port of s.ports ?? []) {
        published += 1;
        expect(typeof port, `${name} port must use the short form with an address`).toBe('string');
        expect(String(port), name).toMatch(/^127\.0\.0\.1:/);
      }
    }
    expect(published).toBeGreaterThan(0);
    expect(readText('compose.dev.yaml')).toMatch(/^#.*127\.0\.0\.1/m);
  });

  it('only overrides services that compose.yaml defines', () => {
    for (const name of Object.keys(dev.services)) expect(names).toContain(name);
  });
});
