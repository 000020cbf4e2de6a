import { KubeConfig } from '@kubernetes/client-node';
import { TokenwardenError } from '../errors.js';

/**
 * The cluster live mode reads: the `--kubeconfig` file (its current context), or, without
 * one, the pod's in-cluster config (service-account token and CA mounted by the kubelet).
 */
export function loadClusterConfig(kubeconfigFile: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (kubeconfigFile === undefined) kc.loadFromCluster();
    else kc.loadFromFile(kubeconfigFile);
  } catch (err) {
    throw new TokenwardenError(
      'ERR_CONFIG_INVALID',
      `--kubeconfig: ${kubeconfigFile ?? 'in-cluster config'}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (!kc.getCurrentCluster()) {
    throw new TokenwardenError(
      'ERR_CONFIG_INVALID',
      `--kubeconfig: ${kubeconfigFile ?? 'in-cluster config'}: no current cluster`,
    );
  }
  return kc;
}
