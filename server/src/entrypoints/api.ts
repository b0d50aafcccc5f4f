import { buildApp } from '../app.ts';
import { loadConfig } from '../config/index.ts';
import { createContainer } from '../container.ts';
import { closeOnSignals, exitOnStartupError } from './lifecycle.ts';

try {
  const config = loadConfig();
  const container = createContainer(config, { processName: 'api' });
  const app = await buildApp(container);
  closeOnSignals(container.logger, async () => {
    await app.close();
    await container.close();
  });
  await app.listen({ host: config.HOST, port: config.PORT });
} catch (error) {
  exitOnStartupError(error);
}
