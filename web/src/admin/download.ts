import { ApiRequestError, organizationStore } from './api';

type SavePicker = (options: { suggestedName: string }) => Promise<{ createWritable: () => Promise<WritableStream<Uint8Array>> }>;

/**
 * Downloads a file the API streams (a subscriber export): where the browser can write to a file as it
 * arrives (Chromium's save dialog), the download streams straight to disk with constant memory;
 * elsewhere it is collected and handed over as one file. The API needs the organization header, so a
 * plain link cannot do this. Resolves to false when the person closed the save dialog.
 */
export async function downloadFromApi(path: string, suggestedName: string): Promise<boolean> {
  const picker = (window as unknown as { showSaveFilePicker?: SavePicker }).showSaveFilePicker;
  let target: WritableStream<Uint8Array> | null = null;
  if (picker) {
    try {
      // Asked first, while the click still counts as the person's action.
      target = await (await picker({ suggestedName })).createWritable();
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') return false;
      target = null;
    }
  }
  const organization = organizationStore.get();
  const response = await fetch(`${import.meta.env.VITE_API_URL ?? ''}${path}`, {
    credentials: 'include',
    headers: { 'X-Requested-With': 'subscribe-flow', ...(organization ? { 'X-Organization-Id': organization } : {}) },
  });
  if (!response.ok || !response.body) {
    await target?.abort();
    throw new ApiRequestError(response.status, await response.json().catch(() => undefined));
  }
  if (target) {
    await response.body.pipeTo(target);
    return true;
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = suggestedName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return true;
}
