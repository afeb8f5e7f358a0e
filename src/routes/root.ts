import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';

export const ROOT_MESSAGE = 'ONNX Binary Classifier API is running. Go to /docs for interactive API documentation.';

const rootRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', {
    schema: {
      summary: 'API banner',
      description: 'Confirms that the API is running.',
      tags: ['health'],
      response: { 200: Type.Object({ message: Type.String({ examples: [ROOT_MESSAGE] }) }) },
    },
  }, () => ({ message: ROOT_MESSAGE }));
};

export default rootRoute;
