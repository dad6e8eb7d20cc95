// Background blur with LiveKit's track processors, served entirely by Parley: MediaPipe's
// runtime is copied into the build by vite.config.ts, and the model is the person segmentation
// model @mediapipe/selfie_segmentation ships, with the TFLite metadata MediaPipe Tasks needs
// added (tools/selfie-segmenter/make.sh rebuilds it). Loaded on first use only: the runtime is
// megabytes.
import type { LocalVideoTrack } from 'livekit-client';
import modelUrl from './selfie_segmenter.tflite?url';

declare const __MEDIAPIPE_VERSION__: string;

/** The name LiveKit gives the blur processor (track.getProcessor()?.name). */
export const blurName = 'background-processor';

/** Whether this browser can run the blur (WebGL2, VideoFrame, OffscreenCanvas). */
export async function blurSupported(): Promise<boolean> {
  const { supportsBackgroundProcessors } = await import('@livekit/track-processors');
  return supportsBackgroundProcessors();
}

/** Turns the blur on or off on a camera track; the published track stays the same. */
export async function setBlur(track: LocalVideoTrack, on: boolean): Promise<void> {
  if (!on) return track.stopProcessor();
  if (track.getProcessor()?.name === blurName) return;
  const { BackgroundProcessor } = await import('@livekit/track-processors');
  // MediaPipe's wasm is an Emscripten module: it takes its options from a global Module when
  // one is set as it loads. Its log lines ("INFO: Created TensorFlow Lite XNNPACK delegate")
  // would otherwise all be console errors.
  (window as { Module?: unknown }).Module = {
    printErr: (line: string) => (/^(INFO:|I\d{4}|W\d{4})/.test(line) ? console.debug(line) : console.error(line)),
  };
  const blur = BackgroundProcessor({
    mode: 'background-blur',
    blurRadius: 12,
    // The CPU runs a 256x256 model in milliseconds and works where WebGL is software only.
    segmenterOptions: { delegate: 'CPU' },
    assetPaths: {
      tasksVisionFileSet: new URL(`/assets/mediapipe-${__MEDIAPIPE_VERSION__}`, window.location.origin).toString(),
      modelAssetPath: new URL(modelUrl, window.location.origin).toString(),
    },
    // Counted for the browser tests (and anyone curious): frames blurred, the last one's cost.
    onFrameProcessed: (stats) => {
      const w = window as { parleyBlur?: { frames: number; last?: unknown } };
      w.parleyBlur = { frames: (w.parleyBlur?.frames ?? 0) + 1, last: stats };
    },
  });
  await track.setProcessor(blur);
}
