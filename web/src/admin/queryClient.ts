import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { ApiRequestError } from './api';
import { keys } from './keys';

/**
 * One client per app. An answer of 401 anywhere means the session ended: the "me" query is refreshed,
 * which sends the user to the sign-in page. Client errors are not retried (they would fail again).
 */
export function createQueryClient(): QueryClient {
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({ onError: (error, query) => sessionEnded(error, query.queryKey) }),
    mutationCache: new MutationCache({ onError: (error) => sessionEnded(error, []) }),
    defaultOptions: {
      queries: {
        staleTime: 15_000,
        refetchOnWindowFocus: false,
        retry: (count, error) => !(error instanceof ApiRequestError && error.status < 500) && count < 2,
      },
    },
  });
  function sessionEnded(error: unknown, queryKey: readonly unknown[]) {
    if (error instanceof ApiRequestError && error.status === 401 && queryKey[0] !== 'me') {
      void client.invalidateQueries({ queryKey: keys.me() });
    }
  }
  return client;
}
