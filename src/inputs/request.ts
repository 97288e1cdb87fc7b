/**
 * The extension's way into the router, without VS Code: a request (what the user picked, kept
 * in the panel's state) and the settings become route options exactly as the CLI's options do.
 */
import type { AnalysisRequest } from '../protocol/messages';
import { type Route, type RouteOptions, routeInputs } from './router';

/** The extension's settings that choose how inputs are analysed ("auto" and empty: left out). */
export interface AnalysisSettings {
  /** Kernel profile name, or undefined for "from the input". */
  readonly kernel?: string;
  /** Platform profile id, or undefined for "from the input". */
  readonly platform?: string;
  /** Kernel command line to assume when the input has none. */
  readonly cmdline?: string;
  readonly cpus?: number;
  /** swiotlbLens.scenario.maxCalls. */
  readonly maxCalls?: number;
  /** swiotlbLens.source.defaults and swiotlbLens.source.devices. */
  readonly sourceDefaults?: string;
  readonly sourceDevices?: Readonly<Record<string, string>>;
}

/** The route options of a request: its own kernel and platform over the settings'. */
export function requestOptions(request: AnalysisRequest, settings: AnalysisSettings): RouteOptions {
  const kernel = request.kernel ?? settings.kernel;
  const platform = request.platform ?? settings.platform;
  return {
    ...(kernel ? { kernel } : {}),
    ...(platform ? { platform } : {}),
    ...(settings.cmdline ? { cmdline: settings.cmdline } : {}),
    ...(settings.cpus ? { cpus: settings.cpus } : {}),
    ...(request.compare ? { compare: true } : {}),
    ...(settings.maxCalls ? { maxCalls: settings.maxCalls } : {}),
    ...(settings.sourceDefaults ? { sourceDefaults: settings.sourceDefaults } : {}),
    ...(settings.sourceDevices && Object.keys(settings.sourceDevices).length ? { sourceDevices: settings.sourceDevices } : {}),
    expect: request.kind,
  };
}

/** Routes a request as the extension runs it. */
export function routeRequest(request: AnalysisRequest, settings: AnalysisSettings): Promise<Route> {
  return routeInputs(request.files, requestOptions(request, settings));
}
