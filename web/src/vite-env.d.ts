/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Base URL of the API when the app is served from another origin (Cloudflare Pages); empty means same origin. */
  readonly VITE_API_URL?: string;
}
