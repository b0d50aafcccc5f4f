import { cleanup } from '@testing-library/react';
import { afterEach } from 'vitest';
import { resetApi, stubFetch } from './api';

// The API client captures fetch when it is created, so the stand-in must be in place before any app
// module loads; tests then choose the answers per call.
stubFetch();

afterEach(() => {
  resetApi();
  if (typeof window === 'undefined') return; // build and generated-file checks run in node
  cleanup();
  window.localStorage.clear();
});
